import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_tsr.models import ARCHITECTURES, GenreClassifier, TSResformerBackbone, build_classifier, get_architecture
from keras_tsr.testing import TestCase


def _x(batch=2, seed=0):
    return np.random.default_rng(seed).uniform(-80, 0, (batch, 128, 512)).astype("float32")


@pytest.mark.parametrize("preset", sorted(ARCHITECTURES))
def test_every_preset_gives_class_probabilities(preset):
    model = build_classifier(preset, num_classes=8, compile=False)
    y = keras.ops.convert_to_numpy(model(_x(), training=False))
    assert y.shape == (2, 8)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(y >= 0)


def test_paper_settings_are_in_the_default_preset():
    b = get_architecture("ts_resformer")["backbone"]
    assert (b["num_transformer_layers"], b["num_heads"], b["intermediate_dim"], b["dropout"]) == (4, 4, 512, 0.4)
    assert b["tf_attention"] and b["squeeze_excite"] and b["fusion"] == "parallel"
    model = build_classifier("ts_resformer", compile=False)
    assert 1_000_000 < model.count_params() < 5_000_000


def test_invalid_arguments_and_unknown_preset():
    with pytest.raises(ValueError, match="temporal"):
        TSResformerBackbone(temporal="mamba")
    with pytest.raises(ValueError, match="fusion"):
        TSResformerBackbone(fusion="sideways")
    with pytest.raises(ValueError, match="Unknown architecture"):
        get_architecture("nope")


class TestModels(TestCase):
    def test_classifier_config_and_keras_file_round_trip(self):
        model = GenreClassifier.from_preset("debug", num_classes=5)
        reloaded = self.run_model_saving_test(model, _x())
        assert reloaded.num_classes == 5

    def test_from_preset_matches_the_preset_and_takes_overrides(self):
        backbone = TSResformerBackbone.from_preset("debug", num_frames=256, num_transformer_layers=2)
        config = backbone.get_config()
        for key, value in get_architecture("debug")["backbone"].items():
            if key != "num_transformer_layers":
                assert config[key] == (tuple(value) if isinstance(value, list) else value), key
        assert config["num_frames"] == 256 and config["num_transformer_layers"] == 2
        assert backbone.num_transformer_layers == 2  # one attribute per argument
        assert {"name", "trainable", "dtype"} <= set(config)  # extends super().get_config()
        model = GenreClassifier.from_preset("debug", num_classes=3, num_frames=256)
        assert model.output_shape == (None, 3) and model.input_shape == (None, 128, 256)
        assert build_classifier("debug", num_classes=3, num_frames=256).count_params() == model.count_params()

    def test_unknown_override_lists_the_valid_arguments(self):
        with pytest.raises(ValueError, match="Unknown backbone argument.*num_layerz.*Valid:.*num_transformer_layers"):
            TSResformerBackbone.from_preset("debug", num_layerz=3)


def test_one_training_step_lowers_the_loss():
    keras.utils.set_random_seed(0)
    model = build_classifier("debug", num_classes=4)
    x = _x(8)
    y = keras.utils.to_categorical(np.arange(8) % 4, 4)
    # Training-mode losses (batch statistics): the first is taken before any update.
    losses = [float(model.train_on_batch(x, y)[0]) for _ in range(6)]
    assert losses[-1] < losses[0], losses


def _zero(layer):
    for w in layer.weights:
        w.assign(np.zeros(w.shape, w.dtype))


@pytest.mark.parametrize("which", ["tf_attention", "squeeze_excite"])
def test_attention_modules_are_in_the_path(which):
    model = build_classifier("debug", num_classes=4, compile=False)
    x = _x()
    before = keras.ops.convert_to_numpy(model(x, training=False))
    backbone = model.backbone
    if which == "tf_attention":
        att = backbone.get_layer("tf_attention")
        for sub in (att.freq_attention, att.time_attention):
            _zero(sub.reduce)
            _zero(sub.expand)
    else:
        for i in range(len(backbone.block_widths)):
            _zero(backbone.get_layer(f"res_block_{i}").se_expand)
    after = keras.ops.convert_to_numpy(model(x, training=False))
    assert np.abs(after - before).max() > 1e-5


SAVE_SCRIPT = textwrap.dedent("""
    import sys, numpy as np
    from keras_tsr.models import build_classifier
    import keras
    keras.utils.set_random_seed(1)
    model = build_classifier("debug", num_classes=6, compile=False)
    x = np.random.default_rng(3).uniform(-80, 0, (2, 128, 512)).astype("float32")
    model.save_weights(sys.argv[1])
    np.save(sys.argv[2], keras.ops.convert_to_numpy(model(x, training=False)))
""")


def test_weights_cross_backend(tmp_path):
    other = "tensorflow" if keras.backend.backend() == "jax" else "jax"
    weights, expected = tmp_path / "w.weights.h5", tmp_path / "y.npy"
    env = {**os.environ, "KERAS_BACKEND": other}
    subprocess.run([sys.executable, "-c", SAVE_SCRIPT, str(weights), str(expected)], check=True, env=env)
    model = build_classifier("debug", num_classes=6, compile=False)
    model.load_weights(weights)
    x = np.random.default_rng(3).uniform(-80, 0, (2, 128, 512)).astype("float32")
    got = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(got, np.load(expected), atol=1e-4)


def test_float16_policy_computes_in_float16_and_keeps_float32_probabilities():
    """--mixed-precision fp16: the body in float16, the rescaled log-mel input and the softmax in float32 (bf16
    training itself is tests/train_test.py's)."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_classifier("debug", num_classes=4)
        out = model(_x(2), training=False)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(out)))
        assert model.backbone.get_layer("tf_attention").compute_dtype == "float16"
        assert model.backbone.get_layer("rescale").compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_class_accuracy_is_the_recall_of_one_class():
    from keras_tsr.models.class_accuracy import ClassAccuracy, genre_accuracy_metrics

    y_true = np.eye(3, dtype="float32")[[0, 0, 0, 1, 2, 2]]
    y_pred = np.eye(3, dtype="float32")[[0, 1, 0, 1, 0, 2]]  # class 0: 2 of 3 right; class 2: 1 of 2
    m = ClassAccuracy(0)
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(m.result()), 2 / 3, rtol=1e-6)
    m.update_state(y_true[:1], y_pred[:1])  # state accumulates across batches: 3 of 4
    np.testing.assert_allclose(float(m.result()), 3 / 4, rtol=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0  # no example of the class: 0, not NaN
    weighted = ClassAccuracy(2)
    weighted.update_state(y_true, y_pred, sample_weight=np.array([1, 1, 1, 1, 0, 1], "float32"))
    assert float(weighted.result()) == 1.0  # the wrong class-2 prediction weighs nothing
    names = [m.name for m in genre_accuracy_metrics(["Hip-Hop", "Old-Time / Historic"])]
    assert names == ["acc_hip_hop", "acc_old_time_historic"]
    assert ClassAccuracy.from_config(ClassAccuracy(2, name="acc_x").get_config()).class_id == 2


def test_a_trained_preset_refuses_arguments_it_cannot_honour(tiny_workdir, tmp_path):
    """from_preset on a trained folder loads it as trained; a num_classes of another size or a backbone argument
    is refused (it was silently ignored)."""
    from keras_tsr.errors import ArgumentError
    from keras_tsr.models import GenreClassifier
    from keras_tsr.serve import export_model

    folder = str(tmp_path / "preset")
    export_model(tiny_workdir.path, folder, "preset", check=False)
    model = GenreClassifier.from_preset(folder, num_classes=3, compile=False)  # its own number: accepted
    assert model.class_names == ["Folk", "Pop", "Rock"]
    with pytest.raises(ArgumentError, match="cannot take num_classes=8"):
        GenreClassifier.from_preset(folder, num_classes=8)
    with pytest.raises(ArgumentError, match="cannot take num_frames=256"):
        GenreClassifier.from_preset(folder, num_frames=256)


def test_a_presets_genres_and_geometry_come_back_from_its_preprocessor(tiny_workdir, tmp_path):
    """preprocessor.json holds a GenrePreprocessor (Keras' JSON, safe mode), and loading reads it back: the loaded
    model's genres and geometry are its preprocessor's (metadata.json, for tools without Keras, is not what loading
    reads), it survives save_to_preset again, and a preset written before (preprocessor.json naming
    keras_tsr.audio.Geometry) loads its preprocessor from metadata.json."""
    import json

    import keras

    from keras_tsr.models import GenreClassifier, GenrePreprocessor
    from keras_tsr.serve import export_model

    folder = tmp_path / "preset"
    export_model(tiny_workdir.path, str(folder), "preset", check=False)
    stored = json.loads((folder / "preprocessor.json").read_text())
    assert stored["class_name"] == "GenrePreprocessor" and stored["config"]["class_names"] == ["Folk", "Pop", "Rock"]
    assert isinstance(keras.saving.deserialize_keras_object(stored, safe_mode=True), GenrePreprocessor)

    stored["config"]["class_names"] = ["A", "B", "C"]  # loading must read this file, not metadata.json
    (folder / "preprocessor.json").write_text(json.dumps(stored))
    model = GenreClassifier.from_preset(str(folder), compile=False)
    assert isinstance(model.preprocessor, GenrePreprocessor) and model.class_names == ["A", "B", "C"]
    assert model.geometry == tiny_workdir.geometry()

    again = tmp_path / "again"
    model.save_to_preset(str(again))  # complete from the loaded model alone
    assert GenreClassifier.from_preset(str(again), compile=False).class_names == ["A", "B", "C"]

    meta = json.loads((folder / "metadata.json").read_text())["keras_tsr"]
    (folder / "preprocessor.json").write_text(json.dumps({"class_name": "keras_tsr.audio.Geometry",
                                                          "config": meta["geometry"]}))
    assert GenreClassifier.from_preset(str(folder), compile=False).class_names == ["Folk", "Pop", "Rock"]


def test_the_weighted_binary_crossentropy_weighs_each_genres_positives():
    from keras_tsr.models import WeightedBinaryCrossentropy

    y = np.array([[1.0, 0.0, 1.0]], "float32")
    p = np.array([[0.7, 0.2, 0.4]], "float32")
    loss = WeightedBinaryCrossentropy([2.0, 1.0, 3.0])
    expect = -np.mean([2 * np.log(0.7), np.log(0.8), 3 * np.log(0.4)])
    assert float(loss(y, p)) == pytest.approx(expect, rel=1e-5)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert again.positive_weights == [2.0, 1.0, 3.0]
