"""Segments cut from a clip-level build in tf.data: the grid `tsr train` and evaluation read (`cut_segments`, as
the segment configurations store them), random crops for augmentation (`crops` of a `time_major` example), and
the per-segment normalisation both share. The Grain loader's numpy twin is `keras_tsr.datasets.grain_pipeline`."""

from __future__ import annotations

from keras_tsr.datasets import augment as augment_lib


def clip_segment_count(num_samples, geometry, nominal_seconds=None):
    """tf: the segments a clip of `num_samples` gives at `geometry` (`keras_tsr.audio.num_segments`), at most
    those of a `nominal_seconds` clip, as the FMA builders keep; int32."""
    import tensorflow as tf

    from keras_tsr import audio

    g = geometry
    seg = float(audio.segment_samples(g.segment_seconds, g.sample_rate))
    n = tf.cast(audio.num_segments(tf.cast(num_samples, tf.float64), seg, g.overlap, xp=tf), tf.int32)
    if nominal_seconds:
        n = tf.minimum(n, audio.num_segments(int(nominal_seconds * g.sample_rate), int(seg), g.overlap))
    return n


def cut_segments(example, geometry, nominal_seconds=None, normalise=True):
    """tf.data: one clip-level example -> its segments, as the segment configurations store them.

    Segments of `geometry.frames` frames every `geometry.hop_frames`, as many
    as `keras_tsr.audio.num_segments` gives for the clip (at most those of a
    `nominal_seconds` clip, as the FMA builders keep), each in dB against its
    own maximum and floored at -top_db: `keras_tsr.audio.clip_features`'s
    output, cut from the stored whole-clip dB (random crops: `crops`). Returns a dict of tensors
    with a leading segment axis (unbatch it). With `normalise=False`, the
    segments stay in the stored dtype and dB, and `peak` holds each one's
    maximum (float32): `maximum(log_mel - peak, -top_db)` is the normalised
    segment, which load_split computes once a batch.
    """
    import tensorflow as tf

    from keras_tsr import audio

    g = geometry
    # the grid: contiguous windows, framed without an index
    n = clip_segment_count(example["num_samples"], g, nominal_seconds)
    clip = example["log_mel"]  # (mels, clip frames), as stored
    need = (n - 1) * g.hop_frames + g.frames
    clip = tf.pad(clip, [[0, 0], [0, tf.maximum(need - tf.shape(clip)[1], 0)]],
                  constant_values=tf.cast(audio.CLIP_DB_FLOOR, clip.dtype))  # frames past the clip are silence
    segs = tf.transpose(tf.signal.frame(clip[:, :need], g.frames, g.hop_frames, axis=1), [1, 0, 2])
    # a segment's maximum is the largest of its frames'
    peak = tf.reduce_max(tf.signal.frame(tf.reduce_max(clip[:, :need], axis=0), g.frames, g.hop_frames), axis=1)
    out = {k: _per_segment(v, n) for k, v in example.items() if k not in ("log_mel", "num_samples")}
    out.update(log_mel=segs, peak=tf.cast(peak, tf.float32), segment=tf.range(n, dtype=tf.int32))
    if normalise:
        out["log_mel"] = normalise_segments(out["log_mel"], out.pop("peak"), g.top_db)
    return out


def _per_segment(value, n):
    """A clip's value once for each of its `n` segments: a scalar (label, track id) or a vector (multi-hot)."""
    import tensorflow as tf

    if value.shape.rank == 0:
        return tf.fill([n], value)
    return tf.repeat(value[None], n, axis=0)


def normalise_segments(segments, peak, top_db):
    """Segments (n, mels, frames) of stored whole-clip dB -> each in dB against its own maximum `peak` (n,),
    floored at -top_db, float32: what `keras_tsr.audio.clip_features` gives."""
    import tensorflow as tf

    return tf.maximum(tf.cast(segments, tf.float32) - tf.cast(peak, tf.float32)[:, None, None], -top_db)


def time_major(example):
    """A clip-level example with its log-mel time-major (clip frames, mels) and each frame's maximum
    (`frame_peak`): what random crops cut from, each epoch, with one row gather."""
    import tensorflow as tf

    out = dict(example)
    out["log_mel"] = tf.transpose(example["log_mel"])
    out["frame_peak"] = tf.reduce_max(example["log_mel"], axis=0)
    return out


def crops(example, geometry, nominal_seconds, seed):
    """A time-major example (`time_major`) -> its segments at random starts inside the clip: log_mel
    (n, frames, mels) in the stored dtype and dB, `peak` (n,) each one's maximum, float32."""
    import tensorflow as tf

    from keras_tsr import audio

    g = geometry
    n = clip_segment_count(example["num_samples"], g, nominal_seconds)
    clip, frame_peak = example["log_mel"], example["frame_peak"]
    real = audio.clip_frames(tf.cast(example["num_samples"], tf.int32))  # frames that see the clip's audio
    starts = augment_lib.random_starts(n, tf.minimum(real, tf.shape(clip)[0]), g.frames, seed)
    need = tf.reduce_max(starts) + g.frames
    pad = tf.maximum(need - tf.shape(clip)[0], 0)
    floor = tf.cast(audio.CLIP_DB_FLOOR, clip.dtype)  # frames past the clip are silence
    clip = tf.pad(clip, [[0, pad], [0, 0]], constant_values=floor)
    frame_peak = tf.pad(frame_peak, [[0, pad]], constant_values=floor)
    idx = starts[:, None] + tf.range(g.frames)[None, :]  # (n, frames)
    out = {k: _per_segment(v, n) for k, v in example.items() if k not in ("log_mel", "num_samples", "frame_peak")}
    out.update(log_mel=tf.gather(clip, idx), peak=tf.cast(tf.reduce_max(tf.gather(frame_peak, idx), axis=1),
                                                            tf.float32), segment=tf.range(n, dtype=tf.int32))
    return out
