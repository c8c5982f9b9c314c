import types

import numpy as np
import pytest

from keras_tsr import audio, data

pytestmark = pytest.mark.backend_independent


def _info(metadata, shape):
    return types.SimpleNamespace(metadata=metadata, features={"log_mel": types.SimpleNamespace(shape=shape)})


def test_dataset_geometry_is_read_from_metadata():
    g = audio.Geometry(segment_seconds=3.0)
    assert data.dataset_geometry(_info({"geometry": g.to_dict()}, (128, g.frames))) == g
    with pytest.raises(ValueError, match="records no front-end geometry"):
        data.dataset_geometry(_info({}, (128, 512)), "old/12s")
    with pytest.raises(ValueError, match="log_mel is"):
        data.dataset_geometry(_info({"geometry": g.to_dict()}, (128, 512)))


def test_unbuilt_dataset_is_not_prepared(tmp_path):
    assert not data.is_prepared("fma_small_logmel/12s", str(tmp_path))


def test_load_split_batches_and_ids(built_dataset):
    data_dir, desc, _ = built_dataset
    info = data.dataset_info("fma_small_logmel/12s", str(data_dir))
    assert data.dataset_geometry(info).segment_seconds == 12.0
    assert info.metadata["split_scheme"] == "official"
    ds = data.load_split("fma_small_logmel/12s", "test", str(data_dir), 5, 8, with_ids=True)
    xs, ys, ids = zip(*[(np.asarray(x), np.asarray(y), np.asarray(t)) for x, y, t in ds])
    assert xs[0].shape == (5, 128, 512) and xs[0].dtype == np.float32 and ys[0].shape == (5, 8)
    n_test = sum(1 for t in desc["tracks"] if not t["broken"] and t["split"] == "test")
    assert sum(len(i) for i in ids) == 4 * n_test
    assert np.all(np.concatenate(ys).sum(1) == 1)


def test_input_pipeline_hides_gpus_from_tensorflow_under_jax(monkeypatch):
    """With the gpu extra, TensorFlow (tf.data, TFDS) must not take accelerator memory from a JAX model."""
    import tensorflow as tf

    calls = []
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda devices, kind: calls.append((list(devices), kind)))
    monkeypatch.setattr(data.tensorflow, "_hidden", False, raising=False)
    assert data.tensorflow() is tf
    assert calls == [([], "GPU")]
    data.tensorflow()
    assert len(calls) == 1  # once per process
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setattr(data.tensorflow, "_hidden", False, raising=False)
    data.tensorflow()
    assert len(calls) == 1  # the TensorFlow backend keeps its GPUs
