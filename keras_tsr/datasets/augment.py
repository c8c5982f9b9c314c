"""Training-time augmentation in the input pipeline (tf.data or Grain), the same under every Keras backend, off at
evaluation.

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

One definition of each transform serves both loaders: the draws and their application are written once over a
small set of array operations (`_TF` for tf.data, `_NP` for Grain's numpy batches), chosen by the key's type.
The two loaders draw from different generators (TensorFlow's stateless Philox, numpy's SeedSequence), so
their augmented batches differ while their unaugmented batches are equal.

Every random draw is stateless, from the run's seed, the epoch and the example's index
(`keras_tsr.datasets.pipeline.EpochCounter`), so a run repeats with its seed, each epoch draws anew, and a
resumed epoch draws what it drew in an uninterrupted run.
"""

from __future__ import annotations

import dataclasses

from keras_tsr.errors import ArgumentError


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
        raise ArgumentError(f"--augment {name}: not a recipe. Choose one of: {', '.join(RECIPES)}")
    fields = {f.name: f.type for f in dataclasses.fields(Augment)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ArgumentError(f"--augment-set {', '.join(unknown)}: not an augmentation option. Valid keys: "
                         f"{', '.join(fields)}")
    aug = dataclasses.replace(RECIPES[name], **overrides)
    bad = [f"{k}={v!r}" for k, v in dataclasses.asdict(aug).items() if not isinstance(v, bool) and v < 0]
    if bad:
        raise ArgumentError(f"--augment-set: values must be >= 0. Received: {', '.join(bad)}")
    return aug


class _TF:
    """The few array operations the draws and their application need, in TensorFlow (the tf.data loader)."""

    @staticmethod
    def module():
        import tensorflow as tf

        return tf

    @classmethod
    def uniform(cls, key, shape, low=0.0, high=1.0):
        return cls.module().random.stateless_uniform(shape, key, minval=low, maxval=high)

    @classmethod
    def fold(cls, key, k):
        return cls.module().random.experimental.stateless_fold_in(key, k)

    @classmethod
    def gamma(cls, key, n, alpha):
        return cls.module().random.stateless_gamma([n], key, alpha=alpha)

    @classmethod
    def to_int(cls, x):
        return cls.module().cast(x, cls.module().int32)

    @classmethod
    def to_float(cls, x):
        return cls.module().cast(x, cls.module().float32)

    @classmethod
    def size(cls, x, axis):
        return cls.module().shape(x)[axis]

    @classmethod
    def arange(cls, n):
        return cls.module().range(n)

    @classmethod
    def roll_frames(cls, x, shift):
        """Each segment of x (b, mels, frames) rolled along its frames by its own shift (b,), as tf.roll rolls."""
        tf = cls.module()
        frames = tf.shape(x)[2]
        return tf.gather(x, (tf.range(frames)[None, :] - shift[:, None]) % frames, axis=2, batch_dims=1)

    @staticmethod
    def add_level(x, gain):
        """Each segment of x moved by its own gain (b,)."""
        return x + gain[:, None, None]

    @classmethod
    def clip(cls, x, low, high):
        return cls.module().clip_by_value(x, low, high)

    @classmethod
    def fill_masked(cls, x, keep_bands, keep_frames, value):
        """x with `value` where a band (b, mels) or a frame (b, frames) is not kept (None: no such mask)."""
        tf = cls.module()
        keep = tf.ones([tf.shape(x)[0], 1, 1], tf.bool)
        if keep_bands is not None:
            keep = keep & keep_bands[:, :, None]
        if keep_frames is not None:
            keep = keep & keep_frames[:, None, :]
        return tf.where(keep, x, tf.cast(value, x.dtype))

    @classmethod
    def mix(cls, x, lam, perm):
        """lam * x + (1 - lam) * x[perm], lam (b,) over x's leading axis."""
        tf = cls.module()
        lx = tf.reshape(lam, [-1] + [1] * (len(x.shape) - 1))
        return lx * x + (1.0 - lx) * tf.gather(x, perm)


class _NP:
    """The same operations in numpy (the Grain loader); keys are tuples of ints, folded by appending."""

    @staticmethod
    def module():
        import numpy as np

        return np

    @staticmethod
    def _rng(key):
        import numpy as np

        return np.random.default_rng(np.random.SeedSequence([int(k) % 2**63 for k in key]))

    @classmethod
    def uniform(cls, key, shape, low=0.0, high=1.0):
        import numpy as np

        return cls._rng(key).uniform(low, high, size=shape).astype(np.float32)

    @staticmethod
    def fold(key, k):
        return (*key, int(k))

    @classmethod
    def gamma(cls, key, n, alpha):
        import numpy as np

        return cls._rng(key).gamma(alpha, size=[n]).astype(np.float32)

    @staticmethod
    def to_int(x):
        import numpy as np

        return np.asarray(x).astype(np.int32)

    @staticmethod
    def to_float(x):
        import numpy as np

        return np.asarray(x, dtype=np.float32)

    @staticmethod
    def size(x, axis):
        return x.shape[axis]

    # The transforms below work in place on the batch (`apply` copies first unless told the batch is its own):
    # one pass each, and the masks touch only what they cover.
    @staticmethod
    def arange(n):
        import numpy as np

        return np.arange(n)

    @staticmethod
    def roll_frames(x, shift):
        import numpy as np

        for j, s in enumerate(shift):
            if s:
                x[j] = np.roll(x[j], int(s), axis=-1)
        return x

    @staticmethod
    def add_level(x, gain):
        x += gain[:, None, None].astype(x.dtype)
        return x

    @staticmethod
    def clip(x, low, high):
        import numpy as np

        return np.clip(x, low, high, out=x)

    @staticmethod
    def fill_masked(x, keep_bands, keep_frames, value):
        if keep_bands is not None:
            x[~keep_bands] = value  # (b, mels) selects whole rows of frames
        if keep_frames is not None:
            x.transpose(0, 2, 1)[~keep_frames] = value
        return x

    @staticmethod
    def mix(x, lam, perm):
        lx = lam.reshape([-1] + [1] * (x.ndim - 1)).astype(x.dtype)
        partner = x[perm]
        partner *= 1 - lx
        x *= lx
        x += partner
        return x


def ops_for(key):
    """The operations matching a random key: numpy for a tuple of ints (the Grain loader), else TensorFlow."""
    return _NP if isinstance(key, tuple) else _TF


def random_starts(n, clip_frames, frames, seed):
    """`n` segment starts drawn uniformly so that each segment lies inside the clip's `clip_frames` real frames
    (start 0 for a clip shorter than a segment, which is then padded with silence as the grid pads it)."""
    o = ops_for(seed)
    xp = o.module()
    room = xp.maximum(clip_frames - frames, 0)
    return o.to_int(xp.floor(o.uniform(seed, [n]) * o.to_float(room + 1)))


def _kept(b, size, count, width, seed):
    """(b, size) bool: False under `count` masks a row, each of a random width in [0, width]."""
    o = ops_for(seed)
    xp = o.module()
    pos = o.arange(size)[None, :]
    keep = xp.ones([b, size], dtype=bool)
    for k in range(count):
        u = o.uniform(o.fold(seed, k), [b, 2])
        w = o.to_int(xp.floor(u[:, 0] * (width + 1)))
        start = o.to_int(xp.floor(u[:, 1] * o.to_float(xp.maximum(size - w, 0) + 1)))
        keep = keep & ~((pos >= start[:, None]) & (pos < (start + w)[:, None]))
    return keep


def draw(aug: Augment, batch, mels, frames, seed):
    """The per-segment draws (shift, gain, masks) for a batch (batch, mels, frames), from one `seed` (a stateless
    TensorFlow key, or a tuple of ints for numpy): a dict of small arrays (`shift` (batch,) frames, `gain`
    (batch,) dB, `keep_bands` (batch, mels) and `keep_frames` (batch, frames), False under a mask), holding only
    what `aug` turns on; `apply` uses them."""
    o = ops_for(seed)
    xp = o.module()
    seeds = [o.fold(seed, k) for k in range(4)]
    out = {}
    if aug.time_shift and not aug.random_crop:
        most = o.to_int(xp.floor(aug.time_shift * o.to_float(frames)))
        out["shift"] = o.to_int(xp.floor(o.uniform(seeds[0], [batch]) * o.to_float(2 * most + 1))) - most
    if aug.gain_db:
        out["gain"] = o.uniform(seeds[1], [batch], -aug.gain_db, aug.gain_db)
    if aug.freq_masks and aug.freq_mask_width:
        out["keep_bands"] = _kept(batch, mels, aug.freq_masks, aug.freq_mask_width, seeds[2])
    if aug.time_masks and aug.time_mask_width:
        out["keep_frames"] = _kept(batch, frames, aug.time_masks, aug.time_mask_width, seeds[3])
    return out


def apply(x, draws, top_db, ops=None, own=False):
    """A batch of log-mel segments (batch, mels, frames), dB in [-top_db, 0], with `draw`'s draws applied: each
    segment shifted circularly (tf.roll's direction), its level moved by its gain and clipped to [-top_db, 0],
    then the floor where either mask covers. Whole-batch operations: XLA fuses TensorFlow's
    (`keras_tsr.datasets.pipeline`); with `ops` `_NP` (the Grain loader) they work in place on a numpy batch,
    on a copy unless `own` says the batch may be changed."""
    o = ops or _TF
    if o is _NP and not own:
        x = x.copy()
    if "shift" in draws:
        x = o.roll_frames(x, draws["shift"])
    if "gain" in draws:
        x = o.clip(o.add_level(x, draws["gain"]), -top_db, 0.0)
    if "keep_bands" in draws or "keep_frames" in draws:
        x = o.fill_masked(x, draws.get("keep_bands"), draws.get("keep_frames"), -top_db)
    return x


def segment_transform(x, aug: Augment, top_db, seed):
    """One segment's log-mel (mels, frames) -> its augmented copy: `draw` and `apply` on a batch of one."""
    o = ops_for(seed)
    return apply(x[None], draw(aug, 1, o.size(x, 0), o.size(x, 1), seed), top_db, o)[0]


def mixup_draw(n, alpha, seed):
    """mixup's draws for a batch of `n`: `lam` (n,) ~ Beta(alpha, alpha) and `perm` (n,), each example's
    partner in the batch."""
    o = ops_for(seed)
    xp = o.module()
    s1, s2, s3 = (o.fold(seed, k) for k in range(3))
    g1, g2 = o.gamma(s1, n, alpha), o.gamma(s2, n, alpha)
    return {"lam": g1 / xp.maximum(g1 + g2, 1e-12), "perm": xp.argsort(o.uniform(s3, [n]))}


def mixup_apply(x, y, draws, ops=None, own=False):
    """Mixes each example of a batch with its partner `perm` by `lam`, the same lambda for the log-mel and the
    one-hot (or smoothed) target, so each target still sums to one (numpy: in place when `own`)."""
    o = ops or _TF
    if o is _NP and not own:
        x, y = x.copy(), y.copy()
    return o.mix(x, draws["lam"], draws["perm"]), o.mix(y, draws["lam"], draws["perm"])


def mixup(x, y, alpha, seed):
    """mixup (Zhang et al. 2018) within a batch: `mixup_draw`, then `mixup_apply`."""
    o = ops_for(seed)
    return mixup_apply(x, y, mixup_draw(o.size(x, 0), alpha, seed), o)
