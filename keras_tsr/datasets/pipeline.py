"""The input pipeline: build keras-tsr's TFDS datasets, load them as batched (log-mel, one-hot) pipelines.

Two loaders read a build: tf.data (this module) and Grain (`keras_tsr.datasets.grain_pipeline`, no TensorFlow).
`load_split(..., loader=...)` picks one: "auto" takes tf.data where TensorFlow is installed, Grain elsewhere.
Clip-level configurations are cut into segments inside the input pipeline (`cut_segments`), so one build
serves every segment length.
"""

from __future__ import annotations

import functools
import logging
import os

from keras_tsr import runtime
from keras_tsr.datasets import augment as augment_lib
from keras_tsr.datasets.demo import cache_dir, demo_dataset, demo_layout  # noqa: F401 - re-exported
from keras_tsr.datasets.segments import (  # noqa: F401 - cut_segments re-exported for callers
    clip_segment_count,
    crops,
    cut_segments,
    normalise_segments,
    time_major,
)
from keras_tsr.datasets.source import (  # noqa: F401 - what a build is, re-exported where callers look for it
    CACHE_MEMORY_FRACTION,
    EpochCounter,
    build,
    build_command,
    builder,
    builder_class,
    cache_plan,
    dataset_geometry,
    dataset_info,
    default_data_dir,
    is_clip_level,
    is_prepared,
    register,
)
from keras_tsr.defaults import DEFAULT_DATASET, DEMO_TRACKS_PER_GENRE  # noqa: F401 - re-exported
from keras_tsr.errors import ArgumentError
from keras_tsr.utils import slug

log = logging.getLogger(__name__)

_NO_AUGMENT = augment_lib.Augment()


LOADERS = ("auto", "grain", "tf")


def choose_loader(loader="auto"):
    """"tf" or "grain" for a --loader setting: "auto" is tf.data where TensorFlow is installed, else Grain."""
    if loader not in LOADERS:
        raise ArgumentError(f"--loader {loader}: choose one of {', '.join(LOADERS)}")
    if loader == "auto":
        return "tf" if runtime.has_tensorflow() else "grain"
    if loader == "tf":
        runtime.tensorflow()  # MissingExtraError naming the extra, now
    return loader


def genre_subset(all_names, genres):
    """(class names, label map) for training on `genres` only; ([all names], None) when `genres` is empty.

    The label map sends each dataset label to its index among `genres` (in
    the dataset's order), or -1 for the genres left out.
    """
    if not genres:
        return list(all_names), None
    unknown = sorted(set(genres) - set(all_names))
    if unknown:
        raise ArgumentError(f"--genres {', '.join(unknown)}: not in the dataset. Its genres: {', '.join(all_names)}")
    kept = [n for n in all_names if n in set(genres)]
    if len(kept) < 2:
        raise ArgumentError(f"--genres needs at least two genres. Received: {list(genres)}")
    return kept, [kept.index(n) if n in kept else -1 for n in all_names]


def _cached(ds, where, dataset, split):
    if where == "memory":
        return ds.cache()
    if where:
        os.makedirs(where, exist_ok=True)
        return ds.cache(os.path.join(where, f"{slug(dataset)}_{slug(str(split))}_{os.getpid()}"))
    return ds


def _epoch_seed(seed, epoch, tag):
    """A full-range int64 drawn from (seed, epoch, tag): the stateless root of one pass's randomness."""
    import tensorflow as tf

    key = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64) * 8 + tag])
    return tf.random.stateless_uniform([], key, minval=None, maxval=None, dtype=tf.int64)


def _keyed(ds, seed, epoch, tag):
    """Pairs each element of `ds` with an int64 drawn from (seed, epoch, tag, its index): per-example seeds that
    depend on the epoch, not on how many passes this process has run."""
    import tensorflow as tf

    root = tf.stack([_epoch_seed(seed, epoch, tag), tf.constant(tag, tf.int64)])

    def key(i, ex):
        k = tf.random.experimental.stateless_fold_in(root, i)
        return ex, tf.random.stateless_uniform([], k, minval=None, maxval=None, dtype=tf.int64)

    return ds.enumerate().map(key)


def load_split(dataset, split, data_dir, batch_size, num_classes, shuffle=False, seed=0, with_ids=False,
               drop_remainder=False, label_map=None, geometry=None, augment=None, label_smoothing=0.0,
               cache="auto", epochs=None, stream=None, loader="auto", fuse=True, target="label"):
    """A batched pipeline of (log_mel float32 (batch, mels, frames), one-hot label): tf.data, or with `loader`
    "grain" (or "auto" without TensorFlow) `keras_tsr.datasets.grain_pipeline.load_split`'s numpy batches.

    With `with_ids`, yields (log_mel, one-hot, track_id) for track-level evaluation.
    With `label_map` (see `genre_subset`), keeps only the mapped genres and relabels them.
    A clip-level dataset is cut into segments of `geometry` (see `cut_segments`).
    `augment` (a `keras_tsr.datasets.augment.Augment`, training only) crops, masks, shifts and mixes;
    `label_smoothing` smooths the targets (before mixup, so mixed targets still sum to one).
    `cache`: what the first pass decodes is kept for the next ones (a clip-level build's grid segments, cut
    once; its whole clips where random crops cut them anew each epoch; before shuffling and augmentation,
    which stay random each epoch): "auto" (in memory when it fits in a quarter of the RAM, said in the log),
    "memory", a folder (on disk, tf.data's cache files), or "none".
    A shuffled or augmented pipeline draws each pass's order and augmentation from (seed, epoch), the epoch
    from `epochs` (an `EpochCounter`; one counting the passes from 0 when not given).
    With `stream=N` (training), one endless iterator runs pass after pass, each of exactly N batches (N the
    batches of a pass, or fewer to cap it; a pass with fewer is an error): the next epoch's reading, cutting
    and shuffle-buffer fill then overlap the end of the current epoch instead of starting after it (Keras
    keeps one iterator across epochs when fit gets `steps_per_epoch=N`).
    `target`: "label" (one genre: one-hot targets over `num_classes`), or a multi-hot feature of a multi-label build
    ("genres_all", "genres"), given as float32 targets (no label map; smoothing pulls each towards 0.5).
    `fuse` (tf.data): an augmented batch's arithmetic compiled into one XLA computation; False runs the same
    operations one at a time (scripts/bench_pipeline.py compares the two, a test checks they agree)."""
    args = dict(shuffle=shuffle, seed=seed, with_ids=with_ids, drop_remainder=drop_remainder, label_map=label_map,
                geometry=geometry, augment=augment, label_smoothing=label_smoothing, cache=cache, epochs=epochs,
                stream=stream, target=target)
    if target != "label" and label_map is not None:
        raise ArgumentError("a genre subset (label_map) applies to single-label targets, not to multi-label ones")
    if choose_loader(loader) == "grain":
        from keras_tsr.datasets import grain_pipeline

        return grain_pipeline.load_split(dataset, split, data_dir, batch_size, num_classes, **args)
    return _load_split_tf(dataset, split, data_dir, batch_size, num_classes, fuse=fuse, **args)


def _load_split_tf(dataset, split, data_dir, batch_size, num_classes, shuffle, seed, with_ids, drop_remainder,
                   label_map, geometry, augment, label_smoothing, cache, epochs, stream, fuse, target):
    tf = runtime.tensorflow()
    from keras_tsr.datasets import records

    # the records' (or files') order is fixed by the seed (the cache keeps the first pass's order anyway); the
    # examples' order is drawn per epoch by the shuffle below
    ds = records.tf_examples(dataset, split, data_dir, shuffle=shuffle, seed=seed)
    info = dataset_info(dataset, data_dir)
    g = geometry or dataset_geometry(info, dataset)
    aug = augment if augment is not None and augment != _NO_AUGMENT else None
    mapping = None if label_map is None else tf.constant(label_map, tf.int64)
    if mapping is not None:
        ds = ds.filter(lambda ex: tf.gather(mapping, ex["label"]) >= 0)
    clip_level = is_clip_level(info)
    crop = clip_level and aug is not None and aug.random_crop
    keep = ("log_mel", target, "track_id") if with_ids else ("log_mel", target)
    nominal = info.metadata.get("nominal_seconds") if clip_level else None
    factor = 1.0
    if crop:  # cut anew each epoch, from time-major clips (whole frames are then contiguous rows)
        ds = ds.map(lambda ex: time_major(_slim(ex, keep + ("num_samples",))), num_parallel_calls=tf.data.AUTOTUNE)
    elif clip_level:  # the grid is the same every epoch: cut once, before the cache
        ds = ds.map(lambda ex: _slim(cut_segments(ex, g, nominal, normalise=False), keep + ("peak",)),
                    num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        factor = g.frames / g.hop_frames  # overlapping segments hold each frame about this many times
    else:
        ds = ds.map(lambda ex: _slim(ex, keep))
    ds = _cached(ds, cache_plan(cache, info, split, factor), dataset, split)
    one_pass = dict(geometry=g, aug=aug, seed=seed, shuffle=shuffle, batch_size=batch_size, num_classes=num_classes,
                    mapping=mapping, with_ids=with_ids, drop_remainder=drop_remainder, label_smoothing=label_smoothing,
                    clip_level=clip_level, crop=crop, nominal=nominal, keep=keep, fuse=fuse,
                    target=target)
    if not shuffle and aug is None:
        return _one_pass(ds, None, **one_pass).prefetch(tf.data.AUTOTUNE)
    return _passes(ds, epochs or EpochCounter(), stream, one_pass).prefetch(tf.data.AUTOTUNE)


def _passes(ds, counter, stream, one_pass):
    """load_split's randomised pipeline: one pass an iterator, or with `stream=N` pass after pass, each of
    exactly N batches; each pass takes its epoch from `counter` as it starts."""
    import tensorflow as tf

    if stream:
        def a_pass(_):
            exact = tf.data.experimental.assert_cardinality(int(stream))
            return _one_pass(ds, counter.take(), **one_pass).take(int(stream)).apply(exact)

        return tf.data.Dataset.range(1).repeat().flat_map(a_pass)
    out = tf.data.Dataset.range(1).flat_map(lambda _: _one_pass(ds, counter.take(), **one_pass))
    batches = int(_one_pass(ds, tf.constant(0, tf.int64), **one_pass).cardinality())  # builds, reads nothing
    if batches >= 0:  # known where the examples are (no filter, no cut): Keras then knows an epoch's steps
        out = out.apply(tf.data.experimental.assert_cardinality(batches))
    return out


def _one_pass(ds, epoch, *, geometry, aug, seed, shuffle, batch_size, num_classes, mapping, with_ids,
              drop_remainder, label_smoothing, clip_level, crop, nominal, keep, fuse, target):
    """load_split's pipeline for one pass over the (cached) examples or segments, its randomness drawn from
    (seed, epoch).

    Segments travel as stored (float16; time-major when cropped) with, from a clip-level build, their own
    peak; the layout, casting, the per-segment dB normalisation, the targets and the augmentation are done
    once a batch, on whole-batch tensors."""
    import tensorflow as tf

    g = geometry
    if crop:
        ds = _keyed(ds, seed, epoch, 1).map(
            lambda ex, r: _slim(crops(ex, g, nominal, tf.stack([r, tf.constant(1, tf.int64)])), keep + ("peak",)),
            num_parallel_calls=tf.data.AUTOTUNE).unbatch()
    if shuffle:
        # the seed is a tensor (this epoch's); TF compares a tensor seed in Python when the graph's seed is 0
        # (keras.utils.set_random_seed(0)), which fails in a graph: the graph this pass is traced in (flat_map's
        # function, not the process's global seed) then takes none, and the shuffle's own seed rules. Eagerly
        # (the cardinality probe) the comparison works and nothing is changed.
        if not tf.executing_eagerly():
            tf.compat.v1.get_default_graph().seed = None
        ds = ds.shuffle(10_000, seed=_epoch_seed(seed, epoch, 2), reshuffle_each_iteration=False)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    per_batch = aug is not None and (aug.per_segment or (aug.mixup_alpha and not with_ids))
    ds = _keyed(ds, seed + 1, epoch, 3) if per_batch else ds.map(lambda b: (b, tf.constant(0, tf.int64)))

    def convert(b, r):
        y = _targets(b[target], target, mapping, num_classes, label_smoothing)
        draws = {}  # the batch's random draws (small tensors); the arithmetic on the segments follows, fused
        if aug is not None and aug.per_segment:
            draws.update(augment_lib.draw(aug, tf.shape(b["log_mel"])[0], g.n_mels, g.frames,
                                          tf.stack([r, tf.constant(2, tf.int64)])))
        if aug is not None and aug.mixup_alpha and not with_ids:
            draws.update(augment_lib.mixup_draw(tf.shape(b["log_mel"])[0], aug.mixup_alpha,
                                                tf.stack([r, tf.constant(3, tf.int64)])))
        # with draws, XLA fuses the dozen passes over the batch; without, the three at most (layout, cast,
        # normalisation) run faster as TensorFlow's own multi-threaded kernels (scripts/bench_pipeline.py)
        batch_math = _compiled_batch_math() if draws and fuse else _batch_math_py
        x, y = batch_math(b["log_mel"], b["peak"] if clip_level else None, y, draws, time_major=crop,
                          top_db=float(g.top_db))
        return (x, y, b["track_id"]) if with_ids else (x, y)

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def _batch_math_py(x, peak, y, draws, *, time_major, top_db):
    """A batch as cut and stored -> what the model trains on: time-major crops laid out (mels, frames), float32,
    each segment normalised against its own `peak` (a clip-level build; None for a segment build: a cast),
    then the augmentation `draws` applied (`keras_tsr.datasets.augment.apply`, `mixup_apply`)."""
    import tensorflow as tf

    if time_major:
        x = tf.transpose(x, [0, 2, 1])
    x = normalise_segments(x, peak, top_db) if peak is not None else tf.cast(x, tf.float32)
    x = augment_lib.apply(x, draws, top_db)
    if "lam" in draws:
        x, y = augment_lib.mixup_apply(x, y, draws)
    return x, y


def _targets(label, target, mapping, num_classes, label_smoothing):
    """A batch's targets: one-hot of the (mapped) genre, or a multi-label build's multi-hot as float32; smoothed
    towards the uniform distribution (one genre) or towards 0.5 (each genre of a multi-label target)."""
    import tensorflow as tf

    if target != "label":
        y = tf.cast(label, tf.float32)
        return y * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y
    y = tf.one_hot(label if mapping is None else tf.gather(mapping, label), num_classes)
    return y * (1.0 - label_smoothing) + label_smoothing / num_classes if label_smoothing else y


@functools.cache
def _compiled_batch_math():
    """`_batch_math_py` compiled by XLA (load_split's `fuse`), for augmented batches: the layout, cast,
    normalisation, gain, masks and mixup become one or two passes over the batch instead of one per operation;
    at 12 s a batch of 256 is 64 MB of float32, and each pass costs about what the whole cut does. The random
    draws stay outside (TensorFlow does not compile its stateless random ops) and come in as small tensors."""
    return runtime.tensorflow().function(_batch_math_py, jit_compile=True, reduce_retracing=True)


def _slim(example, keys):
    return {k: example[k] for k in keys}


def count_segments(dataset, split, data_dir, label_map=None, geometry=None, loader="auto"):
    """How many segments one pass over a split yields (the steps of an epoch), reading no log-mel (tf.data; the
    Grain loader reads the split into its store, which the training pipeline then uses)."""
    if choose_loader(loader) == "grain":
        from keras_tsr.datasets import grain_pipeline

        return grain_pipeline.count_segments(dataset, split, data_dir, label_map, geometry)
    tf = runtime.tensorflow()
    import tensorflow_datasets as tfds

    from keras_tsr.datasets import records

    info = dataset_info(dataset, data_dir)
    ds = records.tf_examples(dataset, split, data_dir, decoders={"log_mel": tfds.decode.SkipDecoding()})
    if label_map is not None:
        mapping = tf.constant(label_map, tf.int64)
        ds = ds.filter(lambda ex: tf.gather(mapping, ex["label"]) >= 0)
    if not is_clip_level(info):
        return int(ds.reduce(0, lambda n, _: n + 1))
    g = geometry or dataset_geometry(info, dataset)
    nominal = info.metadata.get("nominal_seconds")
    counts = ds.map(lambda ex: tf.cast(clip_segment_count(ex["num_samples"], g, nominal), tf.int64))
    return int(counts.reduce(tf.constant(0, tf.int64), lambda n, k: n + k))
