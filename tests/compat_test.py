"""The private Keras and tqdm APIs keras_tsr.compat wraps: each still exists and does what keras-tsr relies on,
so a Keras or tqdm upgrade that changes one fails here."""

import keras
import numpy as np
import pytest

from keras_tsr import compat


def _tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))


def test_symbolic_build_builds_the_optimizer_and_metrics_without_data():
    model = _tiny_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    assert not model.optimizer.built
    compat.symbolic_build(model, keras.KerasTensor((None, 4), "float32"), keras.KerasTensor((None, 3), "float32"))
    assert model.optimizer.built and len(model.optimizer.variables) > 1


def test_zero_initialised_variables_skip_the_initializers_and_restore_them():
    with compat.zero_initialised_variables():
        zeros = keras.Variable(keras.initializers.RandomNormal(seed=1)((3, 4)), name="v")
        lazy = keras.layers.Dense(4)
        lazy.build((None, 5))
    assert np.all(keras.ops.convert_to_numpy(lazy.kernel) == 0)  # the initializer did not run
    assert keras.ops.convert_to_numpy(zeros).std() > 0  # a value given directly is kept
    again = keras.layers.Dense(4)
    again.build((None, 5))
    assert keras.ops.convert_to_numpy(again.kernel).std() > 0  # restored after the block


def test_initial_epoch_is_what_backup_and_restore_restores(tmp_path):
    model = _tiny_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = np.zeros((8, 4), "float32"), np.eye(3, dtype="float32")[np.arange(8) % 3]
    backup = str(tmp_path / "backup")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
    resumed = _tiny_model()
    resumed.compile(optimizer="adam", loss="categorical_crossentropy")
    assert compat.initial_epoch(resumed) == 0
    restore = keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)
    restore.set_model(resumed)
    restore.on_train_begin()  # what fit calls first: restores the weights and the epoch to start at
    assert compat.initial_epoch(resumed) == 2
    compat.set_initial_epoch(resumed, 0)
    assert compat.initial_epoch(resumed) == 0


@pytest.mark.backend_independent
def test_open_progress_bars_lists_the_bars_not_yet_closed():
    import io

    from tqdm import tqdm

    bar = tqdm(total=3, file=io.StringIO())
    assert bar in compat.open_progress_bars()
    bar.close()
    assert bar not in compat.open_progress_bars()
