"""Augmentation in the tf.data pipeline: random crops differ between epochs and stay inside the clip, masks
have the asked widths, mixup targets sum to one, evaluation is unaugmented."""

import numpy as np
import pytest
import tensorflow as tf

from keras_tsr import audio
from keras_tsr.datasets import augment
from keras_tsr.datasets import pipeline as data

pytestmark = pytest.mark.backend_independent
DATASET = "fma_small_logmel/clip"
G = audio.Geometry(segment_seconds=5.0)


def _by_track(ds):
    out = {}
    for x, _, tid in ds:
        for seg, t in zip(np.asarray(x), np.asarray(tid), strict=True):
            out.setdefault(int(t), []).append(seg)
    return {t: sorted(v, key=lambda s: s.tobytes()) for t, v in out.items()}


def test_random_crops_differ_between_epochs_and_stay_inside_the_clip(built_clip_dataset):
    data_dir = built_clip_dataset[0]
    aug = augment.recipe("none", random_crop=True)
    ds = data.load_split(DATASET, "test", data_dir, 64, 8, shuffle=True, seed=0, with_ids=True, geometry=G,
                         augment=aug)
    first, second = _by_track(ds), _by_track(ds)
    grid = _by_track(data.load_split(DATASET, "test", data_dir, 64, 8, with_ids=True, geometry=G))
    assert {t: len(v) for t, v in first.items()} == {t: len(v) for t, v in grid.items()}  # the grid's count
    assert any(not np.array_equal(a, b) for t in first for a, b in zip(first[t], second[t], strict=True))
    clips = {int(ex["track_id"]): (np.asarray(ex["log_mel"], np.float32), int(ex["num_samples"]))
             for ex in __import__("tensorflow_datasets").data_source(DATASET, split="test", data_dir=data_dir)}
    for t, segs in first.items():
        clip, n = clips[t]
        real = min(audio.clip_frames(n), clip.shape[1])
        windows = [clip[:, s: s + G.frames] for s in range(real - G.frames + 1)]
        windows = [np.maximum(w - w.max(), -G.top_db) for w in windows]
        for seg in segs:  # each crop is a window of the clip's own frames, renormalised as the grid's are
            assert min(np.abs(seg - w).max() for w in windows) < 1e-4


@pytest.mark.parametrize("axis,field", [(0, "freq"), (1, "time")])
def test_masks_have_the_asked_widths(axis, field):
    width = 9
    aug = augment.recipe("none", **{f"{field}_masks": 1, f"{field}_mask_width": width})
    x = tf.zeros([128, 96])
    widths = []
    for k in range(300):
        y = augment.segment_transform(x, aug, 80.0, tf.constant([k, 7], tf.int64)).numpy()
        masked = (y == -80.0).all(axis=1 - axis)  # whole bands (axis 0) or whole frames (axis 1)
        assert (y[~masked] == 0).all() if axis == 0 else (y[:, ~masked] == 0).all()
        idx = np.flatnonzero(masked)
        assert len(idx) == 0 or (idx[-1] - idx[0] + 1 == len(idx))  # one contiguous mask
        widths.append(len(idx))
    assert max(widths) == width and min(widths) == 0 and len(set(widths)) == width + 1


def test_mixup_targets_sum_to_one_and_mix_like_the_inputs():
    n, k = 64, 8
    y = tf.one_hot(tf.range(n) % k, k)
    x = tf.reshape(tf.repeat(tf.range(n, dtype=tf.float32), 4), [n, 2, 2])
    xm, ym = augment.mixup(x, y, 0.4, tf.constant([3, 1], tf.int64))
    np.testing.assert_allclose(ym.numpy().sum(1), 1.0, atol=1e-6)
    lam = ym.numpy().max(1)
    assert (lam >= 0.5 - 1e-6).all() and len(np.unique(np.round(lam, 4))) > n // 2  # drawn per example
    assert not np.allclose(xm.numpy(), x.numpy())


def test_an_epoch_draws_the_same_whether_run_straight_or_resumed(built_clip_dataset):
    """Pass k of a pipeline equals pass k of a new pipeline whose counter starts at k (a resumed run's): the
    same order, crops, masks and mixup pairs; other epochs draw differently."""
    data_dir = built_clip_dataset[0]
    aug = augment.recipe("small_data", time_masks=2, time_mask_width=30, mixup_alpha=0.4, gain_db=6.0)

    def batches(counter):
        ds = data.load_split(DATASET, "train", data_dir, 8, 8, shuffle=True, seed=3, geometry=G, augment=aug,
                             epochs=counter)
        return ds, [(np.asarray(x), np.asarray(y)) for x, y in ds]

    ds, epoch0 = batches(data.EpochCounter())
    epoch1 = [(np.asarray(x), np.asarray(y)) for x, y in ds]  # a second pass: the next epoch
    _, resumed1 = batches(data.EpochCounter(start=1))
    assert len(epoch1) == len(resumed1) > 1
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(epoch1, resumed1,
                                                                                        strict=True))
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(epoch0, epoch1, strict=True))


@pytest.mark.parametrize("dataset,geometry", [(DATASET, G), ("fma_small_logmel/12s", None)])
def test_fused_batch_arithmetic_equals_the_operations_one_at_a_time(dataset, geometry, built_clip_dataset,
                                                                    built_dataset):
    """XLA's fusion of an augmented batch (layout, normalisation, shift, gain, masks, mixup) gives what the same
    operations give one at a time, on a clip build (crops) and a segment build (time shift)."""
    data_dir = built_clip_dataset[0] if geometry else built_dataset[0]
    aug = augment.recipe("small_data" if geometry else "none", freq_masks=2, freq_mask_width=16, time_masks=2,
                         time_mask_width=30, gain_db=6.0, time_shift=0.0 if geometry else 0.1, mixup_alpha=0.4)

    def batches(fused):
        ds = data.load_split(dataset, "train", data_dir, 16, 8, shuffle=True, seed=5, geometry=geometry,
                             augment=aug, fuse=fused)
        return [(np.asarray(x), np.asarray(y)) for x, y in ds]

    fused, plain = batches(True), batches(False)
    assert len(fused) == len(plain) > 1
    for (xf, yf), (xp, yp) in zip(fused, plain, strict=True):
        np.testing.assert_allclose(xf, xp, atol=1e-4)
        np.testing.assert_allclose(yf, yp, atol=1e-6)
        assert xf.dtype == np.float32 and xf.min() >= -80.0 - 1e-4 and xf.max() <= 1e-4
    assert any(not np.allclose(y.max(1), 1.0) for _, y in plain)  # mixup mixed (the rest is drawn with it)


def test_the_training_stream_runs_the_passes_back_to_back(built_clip_dataset):
    """`load_split(stream=N)`, what training iterates (one iterator across epochs): pass after pass, each the
    pass a per-epoch pipeline gives for that epoch, cut to N batches; a pass with fewer than N is an error."""
    data_dir = built_clip_dataset[0]
    aug = augment.recipe("small_data", time_masks=2, time_mask_width=30, mixup_alpha=0.4)
    common = dict(shuffle=True, seed=3, geometry=G, augment=aug)

    def arrays(ds):
        return [(np.asarray(x), np.asarray(y)) for x, y in ds]

    ds = data.load_split(DATASET, "train", data_dir, 8, 8, epochs=data.EpochCounter(), **common)
    passes = [arrays(ds), arrays(ds)]
    n = len(passes[0])
    assert n > 2

    def same(a, b):
        return len(a) == len(b) and all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1])
                                        for p, q in zip(a, b, strict=True))

    stream = data.load_split(DATASET, "train", data_dir, 8, 8, epochs=data.EpochCounter(), stream=n, **common)
    assert same(arrays(stream.take(2 * n)), passes[0] + passes[1])
    capped = data.load_split(DATASET, "train", data_dir, 8, 8, epochs=data.EpochCounter(), stream=n - 1, **common)
    assert same(arrays(capped.take(2 * (n - 1))), passes[0][:-1] + passes[1][:-1])
    too_long = data.load_split(DATASET, "train", data_dir, 8, 8, epochs=data.EpochCounter(), stream=n + 1, **common)
    with pytest.raises(tf.errors.OpError, match="expected to contain"):
        arrays(too_long.take(n + 1))


def test_evaluation_pipeline_is_unaugmented_and_repeats(built_clip_dataset):
    data_dir = built_clip_dataset[0]
    a = _by_track(data.load_split(DATASET, "test", data_dir, 64, 8, with_ids=True, geometry=G))
    b = _by_track(data.load_split(DATASET, "test", data_dir, 64, 8, with_ids=True, geometry=G,
                                  augment=augment.recipe("none")))
    assert a.keys() == b.keys() and all(np.array_equal(p, q) for t in a for p, q in zip(a[t], b[t], strict=True))


def test_unknown_recipe_or_field_is_one_line():
    with pytest.raises(ValueError, match="not a recipe.*small_data"):
        augment.recipe("heavy")
    with pytest.raises(ValueError, match="not an augmentation option"):
        augment.recipe("small_data", masks=3)
