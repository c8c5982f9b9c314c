"""Test helpers shared by keras-tsr's tests: layer, serialization and saving round trips."""

import os
import tempfile

import keras
import numpy as np


class TestCase:
    """Base class for keras-tsr's pytest test classes, in the manner of keras-hub's TestCase.

    `run_layer_test` checks a layer's output shape against its
    `compute_output_shape`, its config round trip, and a `.keras` save and
    reload; `run_model_saving_test` checks that a model survives a `.keras`
    save and reload with the same outputs and config.
    """

    def run_layer_test(self, cls, init_kwargs, input_data, expected_output_shape=None, atol=1e-6):
        """Runs the layer checks; returns the layer's output (numpy) so a test can check more."""
        input_data = np.asarray(input_data)
        layer = cls(**init_kwargs)
        y = keras.ops.convert_to_numpy(layer(input_data))
        computed = tuple(layer.compute_output_shape(input_data.shape))
        assert y.shape == computed, f"{cls.__name__}: output {y.shape} != compute_output_shape {computed}"
        if expected_output_shape is not None:
            assert y.shape == tuple(expected_output_shape), f"{cls.__name__}: output {y.shape}"

        config = layer.get_config()
        missing = sorted(set(init_kwargs) - set(config))
        assert not missing, f"{cls.__name__}: get_config() lacks constructor arguments {missing}"
        clone = cls.from_config(config)
        assert clone.get_config() == config, f"{cls.__name__}: config does not round-trip"

        inputs = keras.Input(shape=input_data.shape[1:], batch_size=None)
        model = keras.Model(inputs, cls(**init_kwargs)(inputs))
        self.run_model_saving_test(model, input_data, atol=atol)
        return y

    def run_model_saving_test(self, model, input_data, atol=1e-6):
        """Saves `model` as .keras, reloads it, and checks that outputs and config are unchanged."""
        y = keras.ops.convert_to_numpy(model(input_data, training=False))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            model.save(path)
            reloaded = keras.saving.load_model(path)
        assert type(reloaded) is type(model), f"reloaded as {type(reloaded).__name__}, not {type(model).__name__}"
        y_reloaded = keras.ops.convert_to_numpy(reloaded(input_data, training=False))
        np.testing.assert_allclose(y_reloaded, y, atol=atol, err_msg=f"{model.name}: reload changed outputs")
        if hasattr(model, "backbone"):
            assert reloaded.backbone.get_config() == model.backbone.get_config()
        return reloaded


def make_untrained_workdir(path, preset="debug", segment_seconds=6.0, class_names=("Folk", "Pop", "Rock"), seed=0):
    """A workdir laid out as training leaves it (config.json + best.keras) around an untrained model: for tests
    and benchmarks of prediction, export and explanation without training first."""
    from keras_tsr import audio
    from keras_tsr.artifacts import Workdir
    from keras_tsr.models import GenreClassifier

    keras.utils.set_random_seed(seed)
    geometry = audio.Geometry(segment_seconds=segment_seconds)
    wd = Workdir(path)
    wd.write_config({"dataset": f"fma_small_logmel/{segment_seconds:g}s", "data_dir": None, "preset": preset,
                     "batch_size": 4, "class_names": list(class_names), "geometry": geometry.to_dict()})
    model = GenreClassifier.from_preset(preset, num_classes=len(class_names), num_frames=geometry.frames,
                                        compile=False)
    model.save(wd.best_model_path)
    return wd


def realistic_signal(seconds, sample_rate, seed=0):
    """A music-like test signal: chirp, chords, drum hits and noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    chirp = 0.3 * np.sin(2 * np.pi * (80 * t + 400 * t**2 / seconds))
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0, 523.3))
    hits = np.zeros(n)
    for start in np.arange(0, n, int(0.5 * sample_rate)):
        k = np.arange(min(4000, n - start))
        hits[start : start + k.size] += np.exp(-k / 600.0) * rng.standard_normal(k.size)
    noise = 0.05 * rng.standard_normal(n)
    return (chirp + chord + hits + noise).astype("float32")
