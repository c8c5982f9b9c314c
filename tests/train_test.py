"""Training's configuration and callbacks: what a resumed run may change, checkpoints that survive a full disk,
the logs kept readable."""

import os

import keras
import numpy as np
import pytest

from keras_tsr.artifacts import Workdir
from keras_tsr.models import GenreClassifier


def test_a_config_from_before_an_option_existed_is_the_same_run(tmp_path):
    from keras_tsr.train.config import ConfigMismatchError, check_workdir

    w = Workdir(tmp_path / "run")
    os.makedirs(w.path)
    w.write_config({"batch_size": 16, "preset": "demo"})  # written before genres / --set / fine-tuning existed
    now = {"batch_size": 16, "preset": "demo", "genres": [], "overrides": {}, "init_from": None,
           "freeze_backbone": False}
    assert check_workdir(w, now) is True  # resumes
    with pytest.raises(ConfigMismatchError, match="genres"):
        check_workdir(w, {**now, "genres": ["Rock", "Folk"]})  # an option the old run did not use
    with pytest.raises(ConfigMismatchError, match="batch_size"):
        check_workdir(w, {**now, "batch_size": 8})


def test_resolve_names_the_build_command_for_a_missing_dataset(tmp_path):
    from keras_tsr.train import DatasetNotBuiltError, TrainConfig, resolve

    with pytest.raises(DatasetNotBuiltError, match="tfds build fma_small_logmel --imports keras_tsr.datasets"):
        resolve(TrainConfig(dataset="fma_small_logmel/12s", data_dir=str(tmp_path)))


def test_validation_only_genre_metrics_trims_the_training_side():
    from keras_tsr.train.callbacks import ValidationOnlyGenreMetrics

    logs = {"loss": 1.0, "accuracy": 0.5, "acc_rock": 0.4, "val_accuracy": 0.6, "val_acc_rock": 0.7}
    ValidationOnlyGenreMetrics().on_epoch_end(0, logs)
    assert logs == {"loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.6, "val_acc_rock": 0.7}


def test_apply_learning_rate_overrides_a_restored_one():
    from keras_tsr.train.callbacks import ApplyLearningRate

    model = GenreClassifier.from_preset("debug", num_classes=3, compile=False)
    model.compile_paper_defaults(1e-2)
    cb = ApplyLearningRate(1e-4)
    cb.set_model(model)
    cb.on_train_begin()
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 1e-4, rtol=1e-6)


def test_full_disk_while_checkpointing_keeps_the_previous_best(tmp_path, monkeypatch):
    import errno

    from keras_tsr.train.callbacks import BestCheckpoint

    model = GenreClassifier.from_preset("debug", num_classes=4)
    path = str(tmp_path / "best.keras")
    cb = BestCheckpoint(path)
    cb.set_model(model)
    cb.on_epoch_end(0, {"val_accuracy": 0.5})
    before = open(path, "rb").read()

    def full_disk(filepath, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model, "save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        cb.on_epoch_end(1, {"val_accuracy": 0.9})
    assert open(path, "rb").read() == before  # the previous best, whole
    assert sorted(os.listdir(tmp_path)) == ["best.keras"]  # and no half-written file left beside it


def test_truncate_log_drops_the_rows_of_epochs_that_run_again(tmp_path):
    from keras_tsr.train.callbacks import truncate_log

    path = tmp_path / "log.csv"
    path.write_text("epoch,accuracy,loss\n0,0.1,2.0\n1,0.2,1.5\n2,0.25,1.4\n")
    with open(path, "a") as held:  # CSVLogger holds the file open in append mode meanwhile
        assert truncate_log(str(path), 2) == 1
        held.write("2,0.3,1.3\n")
    assert path.read_text() == "epoch,accuracy,loss\n0,0.1,2.0\n1,0.2,1.5\n2,0.3,1.3\n"
    assert truncate_log(str(path), 5) == 0 and truncate_log(str(tmp_path / "none.csv"), 0) == 0


@pytest.mark.parametrize("precision", ["bf16"])
def test_mixed_precision_training_runs_and_its_loss_falls(built_dataset, tmp_path, precision):
    """`tsr train --mixed-precision bf16 --steps-per-execution 2`: the loss falls over epochs, the log-mel input's
    rescaling and the softmax stay float32, the recorded config holds both settings."""
    import csv
    import json

    from keras_tsr.train import TrainConfig, train_and_evaluate
    from keras_tsr.train.loop import precision_policy

    workdir = str(tmp_path / "mixed")
    config = TrainConfig(data_dir=str(built_dataset[0]), preset="debug", epochs=3, batch_size=8,
                         mixed_precision=precision, steps_per_execution=2)
    try:
        train_and_evaluate(config, workdir)
        assert keras.mixed_precision.global_policy().name == precision_policy(precision) == "mixed_bfloat16"
        rows = list(csv.DictReader(open(os.path.join(workdir, "log.csv"))))
        losses = [float(r["loss"]) for r in rows]
        assert len(losses) == 3 and all(np.isfinite(losses)) and losses[-1] < losses[0], losses
        model = Workdir(workdir).load_best_model(for_inference=True)
        assert model.backbone.get_layer("rescale").compute_dtype == "float32"
        assert model.get_layer("predictions").compute_dtype == "float32"
        assert model.backbone.get_layer("tf_attention").compute_dtype == "bfloat16"
        x = np.full((2, *model.input_shape[1:]), -40.0, np.float32)
        assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
        recorded = json.load(open(os.path.join(workdir, "config.json")))
        assert recorded["mixed_precision"] == "bf16" and recorded["steps_per_execution"] == 2
    finally:
        keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        precision_policy("int8")
