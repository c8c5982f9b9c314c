"""Training-time augmentation in the tf.data pipeline, the same under every Keras backend, off at evaluation.

A recipe is an `Augment`: named recipes in `RECIPES` (`none`, the paper's setting and the default on FMA;
`small_data`, for a few hundred clips), with any field overridable (`tsr train --augment small_data
--augment-set mixup_alpha=0.4`). What each field does:

- random_crop: from a clip-level build, each epoch cuts a clip's segments at random offsets inside the clip
  instead of the fixed 50%-overlap grid; the number of segments a clip gives per epoch stays the grid's.
- freq_masks x freq_mask_width, time_masks x time_mask_width: SpecAugment masks (Park et al. 2019), each
  of a random width in [0, width] mel bands or frames, set to the segment's floor (-top_db, silence).
- mixup_alpha: mixup (Zhang et al. 2018) within each batch, lambda ~ Beta(alpha, alpha); the loss is on
  the mixed targets.
- gain_db: a level shift of the segment's log-mel by U(-gain_db, gain_db) dB, clipped to [-top_db, 0]. The
  front-end z-scores each clip and takes each segment's dB against its own maximum, so a gain on the
  waveform would change nothing; this shift moves the segment against its floor instead (quieter or more
  compressed recordings).
- time_shift: where no crop applies (segment configurations), a circular shift of up to this fraction of
  the segment's frames.

Every random draw is stateless, from the run's seed, the epoch and the example's index
(`keras_tsr.datasets.pipeline.EpochCounter`), so a run repeats with its seed, each epoch draws anew, and a
resumed epoch draws what it drew in an uninterrupted run.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Augment:
    random_crop: bool = False
    freq_masks: int = 0
    freq_mask_width: int = 0
    time_masks: int = 0
    time_mask_width: int = 0
    mixup_alpha: float = 0.0
    gain_db: float = 0.0
    time_shift: float = 0.0

    @property
    def per_segment(self) -> bool:
        """Whether any per-segment transform (masks, gain, shift) is on."""
        return bool((self.freq_masks and self.freq_mask_width) or (self.time_masks and self.time_mask_width)
                    or self.gain_db or self.time_shift)


RECIPES = {
    "none": Augment(),
    # Random crops only: on 409 real GTZAN excerpts SpecAugment masks and mixup lowered track accuracy at the
    # epoch counts a CPU affords (docs/benchmarks.md, "Real music"); they stay options (--augment-set).
    "small_data": Augment(random_crop=True),
}


def recipe(name="none", **overrides) -> Augment:
    """A named recipe with `overrides` applied; one-line errors for an unknown name or field."""
    if name not in RECIPES:
        raise ValueError(f"--augment {name}: not a recipe. Choose one of: {', '.join(RECIPES)}")
    fields = {f.name: f.type for f in dataclasses.fields(Augment)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"--augment-set {', '.join(unknown)}: not an augmentation option. Valid keys: "
                         f"{', '.join(fields)}")
    aug = dataclasses.replace(RECIPES[name], **overrides)
    bad = [f"{k}={v!r}" for k, v in dataclasses.asdict(aug).items() if not isinstance(v, bool) and v < 0]
    if bad:
        raise ValueError(f"--augment-set: values must be >= 0. Received: {', '.join(bad)}")
    return aug


def _uniform(seed, shape, low=0.0, high=1.0):
    import tensorflow as tf

    return tf.random.stateless_uniform(shape, seed, minval=low, maxval=high)


def random_starts(n, clip_frames, frames, seed):
    """`n` segment starts drawn uniformly so that each segment lies inside the clip's `clip_frames` real frames
    (start 0 for a clip shorter than a segment, which is then padded with silence as the grid pads it)."""
    import tensorflow as tf

    room = tf.maximum(clip_frames - frames, 0)
    u = _uniform(seed, [n])
    return tf.cast(tf.floor(u * tf.cast(room + 1, tf.float32)), tf.int32)


def _kept(b, size, count, width, seed):
    """(b, size) bool: False under `count` masks a row, each of a random width in [0, width]."""
    import tensorflow as tf

    pos = tf.range(size)[None, :]
    keep = tf.ones([b, size], tf.bool)
    for k in range(count):
        u = _uniform(tf.random.experimental.stateless_fold_in(seed, k), [b, 2])
        w = tf.cast(tf.floor(u[:, 0] * (width + 1)), tf.int32)
        start = tf.cast(tf.floor(u[:, 1] * tf.cast(tf.maximum(size - w, 0) + 1, tf.float32)), tf.int32)
        keep = keep & ~((pos >= start[:, None]) & (pos < (start + w)[:, None]))
    return keep


def draw(aug: Augment, batch, mels, frames, seed):
    """The per-segment draws (shift, gain, masks) for a batch (batch, mels, frames), from one stateless `seed`:
    a dict of small tensors (`shift` (batch,) frames, `gain` (batch,) dB, `keep_bands` (batch, mels) and
    `keep_frames` (batch, frames), False under a mask), holding only what `aug` turns on; `apply` uses them."""
    import tensorflow as tf

    seeds = [tf.random.experimental.stateless_fold_in(seed, k) for k in range(4)]
    out = {}
    if aug.time_shift and not aug.random_crop:
        most = tf.cast(tf.floor(aug.time_shift * tf.cast(frames, tf.float32)), tf.int32)
        out["shift"] = tf.cast(tf.floor(_uniform(seeds[0], [batch]) * tf.cast(2 * most + 1, tf.float32)),
                               tf.int32) - most
    if aug.gain_db:
        out["gain"] = _uniform(seeds[1], [batch], -aug.gain_db, aug.gain_db)
    if aug.freq_masks and aug.freq_mask_width:
        out["keep_bands"] = _kept(batch, mels, aug.freq_masks, aug.freq_mask_width, seeds[2])
    if aug.time_masks and aug.time_mask_width:
        out["keep_frames"] = _kept(batch, frames, aug.time_masks, aug.time_mask_width, seeds[3])
    return out


def apply(x, draws, top_db):
    """A batch of log-mel segments (batch, mels, frames), dB in [-top_db, 0], with `draw`'s draws applied: each
    segment shifted circularly (tf.roll's direction), its level moved by its gain and clipped to [-top_db, 0],
    then the floor where either mask covers (both masks in one pass). Whole-batch tensor operations only, so
    XLA fuses them (`keras_tsr.datasets.pipeline`)."""
    import tensorflow as tf

    if "shift" in draws:
        frames = tf.shape(x)[2]
        idx = tf.math.floormod(tf.range(frames)[None, :] - draws["shift"][:, None], frames)
        x = tf.gather(x, idx, axis=2, batch_dims=1)
    if "gain" in draws:
        x = tf.clip_by_value(x + draws["gain"][:, None, None], -top_db, 0.0)
    if "keep_bands" in draws or "keep_frames" in draws:
        keep = tf.ones([tf.shape(x)[0], 1, 1], tf.bool)
        if "keep_bands" in draws:
            keep = keep & draws["keep_bands"][:, :, None]
        if "keep_frames" in draws:
            keep = keep & draws["keep_frames"][:, None, :]
        x = tf.where(keep, x, tf.cast(-top_db, x.dtype))
    return x


def segment_transform(x, aug: Augment, top_db, seed):
    """One segment's log-mel (mels, frames) -> its augmented copy: `draw` and `apply` on a batch of one."""
    import tensorflow as tf

    return apply(x[None], draw(aug, 1, tf.shape(x)[0], tf.shape(x)[1], seed), top_db)[0]


def mixup_draw(n, alpha, seed):
    """mixup's draws for a batch of `n`: `lam` (n,) ~ Beta(alpha, alpha) and `perm` (n,), each example's
    partner in the batch."""
    import tensorflow as tf

    s1, s2, s3 = (tf.random.experimental.stateless_fold_in(seed, k) for k in range(3))
    g1 = tf.random.stateless_gamma([n], s1, alpha=alpha)
    g2 = tf.random.stateless_gamma([n], s2, alpha=alpha)
    return {"lam": g1 / tf.maximum(g1 + g2, 1e-12), "perm": tf.argsort(tf.random.stateless_uniform([n], s3))}


def mixup_apply(x, y, draws):
    """Mixes each example of a batch with its partner `perm` by `lam`, the same lambda for the log-mel and the
    one-hot (or smoothed) target, so each target still sums to one."""
    import tensorflow as tf

    lam, perm = draws["lam"], draws["perm"]
    lx = tf.reshape(lam, [-1] + [1] * (len(x.shape) - 1))
    x_mixed = lx * x + (1.0 - lx) * tf.gather(x, perm)
    y_mixed = lam[:, None] * y + (1.0 - lam[:, None]) * tf.gather(y, perm)
    return x_mixed, y_mixed


def mixup(x, y, alpha, seed):
    """mixup (Zhang et al. 2018) within a batch: `mixup_draw`, then `mixup_apply`."""
    import tensorflow as tf

    return mixup_apply(x, y, mixup_draw(tf.shape(x)[0], alpha, seed))
