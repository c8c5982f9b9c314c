"""Test helpers shared by keras-tsr's tests: layer, serialization and saving round trips."""

import os
import tempfile

import keras
import numpy as np


def assert_layer_round_trips(layer_cls, init_kwargs, input_shape, seed=0, atol=1e-6):
    """Checks a layer's output shape, its config round trip and a .keras save/reload.

    Returns the layer's output on a random input so callers can check more.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")
    layer = layer_cls(**init_kwargs)
    y = keras.ops.convert_to_numpy(layer(x))
    expected = tuple(layer.compute_output_shape(input_shape))
    assert y.shape == expected, f"{layer_cls.__name__}: output {y.shape} != compute_output_shape {expected}"

    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, f"{layer_cls.__name__}: config does not round-trip"

    inputs = keras.Input(shape=input_shape[1:], batch_size=None)
    model = keras.Model(inputs, layer_cls(**init_kwargs)(inputs))
    y_model = keras.ops.convert_to_numpy(model(x))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)
    y_reloaded = keras.ops.convert_to_numpy(reloaded(x))
    np.testing.assert_allclose(y_reloaded, y_model, atol=atol, err_msg=f"{layer_cls.__name__}: reload changed outputs")
    return y


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
