"""The TensorFlow-free loader (Grain over tfds.data_source) against tf.data on the same ArrayRecord builds."""

import types

import numpy as np
import pytest

from keras_tsr.datasets import augment, records
from keras_tsr.datasets import pipeline as data

pytestmark = pytest.mark.backend_independent  # numpy and tf.data batches; no model


def _batches(dataset, data_dir, loader, split="test", **kw):
    ds = data.load_split(dataset, split, str(data_dir), kw.pop("batch_size", 5), kw.pop("num_classes", 8),
                         loader=loader, **kw)
    return [tuple(np.asarray(t) for t in b) for b in ds]


def _assert_equal(a, b):
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert len(x) == len(y)
        for u, v in zip(x, y, strict=True):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("dataset", ["fma_small_logmel/12s", "fma_small_logmel/clip"])
def test_unaugmented_batches_are_equal(built_clip_dataset, dataset):
    """Same order, same values, same dtypes: the segment build as stored, the clip build cut on the 12 s grid
    (and at 5 s, another geometry), with ids, and with a genre subset relabelled by its label map."""
    data_dir = built_clip_dataset[0]
    info = data.dataset_info(dataset, str(data_dir))
    assert records.file_format(info) == "array_record"  # the default build
    _assert_equal(_batches(dataset, data_dir, "tf", with_ids=True), _batches(dataset, data_dir, "grain", with_ids=True))
    names, label_map = data.genre_subset(info.features["label"].names, ["Rock", "Folk", "Pop"])
    kw = dict(split="train", num_classes=3, label_map=label_map, batch_size=4)
    if dataset.endswith("clip"):
        kw["geometry"] = data.dataset_geometry(info, dataset, segment_seconds=5.0)
    tf_b, grain_b = _batches(dataset, data_dir, "tf", **dict(kw)), _batches(dataset, data_dir, "grain", **dict(kw))
    _assert_equal(tf_b, grain_b)
    assert {int(i) for b in grain_b for i in b[1].argmax(1)} <= {0, 1, 2}
    n = data.count_segments(dataset, "train", str(data_dir), label_map, kw.get("geometry"), loader="tf")
    assert data.count_segments(dataset, "train", str(data_dir), label_map, kw.get("geometry"), loader="grain") == n
    assert sum(len(b[0]) for b in grain_b) == n


@pytest.mark.parametrize("cache", ["auto", "none"])  # the split in memory, or clips read from disk in windows
def test_grain_passes_repeat_by_seed_and_epoch(built_clip_dataset, cache):
    """Shuffled, randomly cropped, masked, gained and mixed: each epoch draws anew, and setting the counter back
    to an epoch (a resumed run) draws what that epoch drew, batch for batch."""
    aug = augment.recipe("small_data", freq_masks=2, freq_mask_width=8, time_masks=2, time_mask_width=16, gain_db=6.0,
                         mixup_alpha=0.4)
    counter = data.EpochCounter()
    ds = data.load_split("fma_small_logmel/clip", "train", str(built_clip_dataset[0]), 4, 8, shuffle=True, seed=3,
                         augment=aug, epochs=counter, loader="grain", label_smoothing=0.1, cache=cache)
    first = [(np.asarray(x), np.asarray(y)) for x, y in ds]
    second = [(np.asarray(x), np.asarray(y)) for x, y in ds]
    counter.set(1)
    again = [(np.asarray(x), np.asarray(y)) for x, y in ds]
    assert not np.array_equal(first[0][0], second[0][0])
    _assert_equal(second, again)
    x, y = first[0]
    assert x.dtype == np.float32 and x.shape == (4, 128, 512) and -80.0 <= x.min() and x.max() <= 0.0
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-6)  # smoothed, then mixed: still sums to one
    keras_epoch = ds.for_keras(3)  # what training gets: batch i of the counter's epoch, asked in any order
    counter.set(1)
    assert len(keras_epoch) == 3
    np.testing.assert_array_equal(np.asarray(keras_epoch[1][0]), again[1][0])
    np.testing.assert_array_equal(np.asarray(keras_epoch[0][0]), again[0][0])


def test_augmentation_is_one_definition_over_numpy_and_tf():
    """The same draws give the same augmented batch whether applied with numpy (Grain) or TensorFlow (tf.data)."""
    tf = pytest.importorskip("tensorflow")
    aug = augment.recipe("none", freq_masks=2, freq_mask_width=10, time_masks=1, time_mask_width=30, gain_db=6.0,
                         time_shift=0.2)
    x = np.random.default_rng(0).uniform(-80, 0, (3, 16, 64)).astype(np.float32)
    draws = augment.draw(aug, 3, 16, 64, (1, 2))
    with_np = augment.apply(x, draws, 80.0, augment._NP)
    with_tf = augment.apply(tf.constant(x), {k: tf.constant(v) for k, v in draws.items()}, 80.0).numpy()
    np.testing.assert_array_equal(with_np, with_tf)
    assert not np.array_equal(with_np, x)


def test_grain_refuses_a_tfrecord_build_in_one_line():
    info = types.SimpleNamespace(file_format=types.SimpleNamespace(value="tfrecord"))
    with pytest.raises(records.LoaderError, match=r"stored as tfrecord.*--file_format array_record.*--loader tf"):
        records.require_random_access("fma_small_logmel/12s", info)
