import types

import numpy as np
import pytest

from keras_tsr import audio
from keras_tsr.datasets import pipeline as data

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


@pytest.mark.parametrize("global_seed", [0, 7])
def test_a_shuffled_pipeline_leaves_tensorflows_global_seed_alone(global_seed, built_dataset):
    """Building a shuffled pipeline (its cardinality probe runs a pass's graph eagerly) neither fails with a global
    seed of 0 (the epoch's seed is a tensor, which TF compares in Python) nor resets the user's global seed."""
    import tensorflow as tf

    def first_draw(build):
        tf.random.set_seed(global_seed)
        if build:
            ds = data.load_split("fma_small_logmel/12s", "train", built_dataset[0], 8, 8, shuffle=True, seed=3)
            assert next(iter(ds))[0].shape[0] == 8
        return tf.random.uniform([4]).numpy()

    np.testing.assert_array_equal(first_draw(True), first_draw(False))
