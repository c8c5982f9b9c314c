"""The TensorFlow-free input pipeline: an ArrayRecord build read through `tfds.data_source`, batched by Grain.

`load_split` here yields what `keras_tsr.datasets.pipeline.load_split` (tf.data) yields: the same segments cut
from clip-level builds, the same per-segment normalisation, genre subsets and label maps, and for an
unshuffled, unaugmented split the same batches in the same order, value for value (tests/datasets/
grain_test.py). Its randomness is drawn from (seed, epoch, index) with numpy, so a shuffled or augmented
pass repeats exactly with its seed and epoch (a resumed run sees what an uninterrupted one saw), though not
the tf.data loader's draws.

The split's kept records are read once and held in memory when they fit in a quarter of the RAM (as tf.data's
cache "auto"); otherwise each segment reads its record when asked (random access). Grain's thread pool
(`ReadOptions(num_threads)`) makes batches ahead of training: cutting, normalising and augmenting a batch is
whole-array numpy work that releases the GIL.
"""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from keras_tsr import audio
from keras_tsr.datasets import augment as augment_lib
from keras_tsr.datasets import records, source

log = logging.getLogger("keras_tsr.datasets")
_NO_AUGMENT = augment_lib.Augment()
_STORES: dict = {}
_STORES_LOCK = threading.Lock()


def _seed(*parts) -> int:
    """A 63-bit int drawn from integers (seed, epoch, tag, ...): a stateless root for one pass's draws."""
    return int(np.random.SeedSequence([int(p) % 2**63 for p in parts]).generate_state(2, np.uint64)[0] >> 1)


def workers():
    """Threads Grain makes batches with: $KERAS_TSR_LOADER_THREADS, else the cores (at most 16)."""
    return max(1, int(os.environ.get("KERAS_TSR_LOADER_THREADS", min(16, os.cpu_count() or 1))))


class _Store:
    """A split's examples that the label map keeps: labels, track ids, clip lengths, and the log-mel of each (in
    memory, or read from the data source on demand)."""

    def __init__(self, dataset, split, data_dir, label_map, in_memory):
        import grain

        b = records.builder(dataset, data_dir)
        records.require_random_access(dataset, b.info)
        self.dataset, self.data_dir = dataset, data_dir
        self.source = records.source(dataset, split, data_dir)
        self.clip_level = bool((b.info.metadata or {}).get("clip_level"))
        keep = None if label_map is None else np.asarray(label_map)
        rows = grain.MapDataset.source(self.source).map(self._row).to_iter_dataset(
            grain.ReadOptions(num_threads=workers(), prefetch_buffer_size=64))
        self.index, self.labels, self.track_ids, self.num_samples, self.log_mel = [], [], [], [], []
        try:
            for i, (label, tid, n, x) in enumerate(rows):
                if keep is not None and keep[label] < 0:
                    continue
                self.index.append(i)
                self.labels.append(label if keep is None else int(keep[label]))
                self.track_ids.append(tid)
                self.num_samples.append(n)
                self.log_mel.append(x if in_memory else None)
        except (OSError, RuntimeError) as e:
            self.damaged(e)
        self.labels = np.asarray(self.labels, np.int64)
        self.track_ids = np.asarray(self.track_ids, np.int32)

    def _row(self, ex):
        return (int(ex["label"]), int(ex["track_id"]), int(ex["num_samples"]) if self.clip_level else 0, ex["log_mel"])

    def damaged(self, error):
        from keras_tsr.datasets import verify

        log.debug("reading %s failed: %s", self.dataset, error)
        verify.raise_damaged(self.dataset, self.data_dir)

    def clip(self, pos):
        x = self.log_mel[pos]
        if x is None:
            try:
                x = self.source[self.index[pos]]["log_mel"]
            except (OSError, RuntimeError) as e:
                self.damaged(e)
        return x


def _store(dataset, split, data_dir, label_map, in_memory):
    """One store per (build, split, label map) a process reads: counting, training and evaluation share it."""
    key = (dataset, str(split), os.path.abspath(data_dir), None if label_map is None else tuple(label_map), in_memory)
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = _Store(dataset, split, data_dir, label_map, in_memory)
        return _STORES[key]


def clip_segments(num_samples, geometry, nominal_seconds=None):
    """numpy: the segments a clip gives (`keras_tsr.datasets.pipeline.clip_segment_count`'s count)."""
    g = geometry
    seg = float(audio.segment_samples(g.segment_seconds, g.sample_rate))
    n = int(audio.num_segments(np.float64(num_samples), seg, g.overlap, xp=np))
    if nominal_seconds:
        n = min(n, int(audio.num_segments(int(nominal_seconds * g.sample_rate), int(seg), g.overlap)))
    return n


def cut(clip, start, frames):
    """One segment (mels, frames) of a stored clip from frame `start`, in the stored dtype and dB (frames past the
    clip are silence, as the grid pads), and its maximum (float32)."""
    seg = clip[:, start:start + frames]
    if seg.shape[1] < frames:
        pad = np.full((clip.shape[0], frames - seg.shape[1]), audio.CLIP_DB_FLOOR, clip.dtype)
        seg = np.concatenate([seg, pad], axis=1)
    return seg, np.float32(seg.max())


class _Split:
    """The read side of `load_split`: a store and how its segments are addressed and cut."""

    def __init__(self, store, geometry, nominal, crop):
        self.store, self.g, self.nominal, self.crop = store, geometry, nominal, crop
        if store.clip_level:
            counts = [clip_segments(n, geometry, nominal) for n in store.num_samples]
        else:
            counts = [1] * len(store.index)
        self.counts = np.asarray(counts, np.int64)
        self.record = np.repeat(np.arange(len(counts)), self.counts)  # each segment's record
        self.k = np.arange(len(self.record)) - np.repeat(np.cumsum(self.counts) - self.counts, self.counts)

    def __len__(self):
        return len(self.record)

    def segment(self, i, epoch_seed):
        """Segment i of the pass: (log_mel (mels, frames) as stored, peak, label, track id)."""
        pos, k = int(self.record[i]), int(self.k[i])
        x = self.store.clip(pos)
        s = self.store
        if not s.clip_level:
            return x, np.float32(0.0), s.labels[pos], s.track_ids[pos]
        g = self.g
        if self.crop:  # the record's starts this epoch, drawn as a whole so that they do not depend on the order
            real = min(audio.clip_frames(int(s.num_samples[pos])), x.shape[1])
            start = int(augment_lib.random_starts(int(self.counts[pos]), real, g.frames, (epoch_seed, pos))[k])
        else:
            start = k * g.hop_frames
        seg, peak = cut(x, start, g.frames)
        return seg, peak, s.labels[pos], s.track_ids[pos]


def _batch(items, *, g, clip_level, num_classes, label_smoothing, aug, with_ids, key):
    """A list of segments -> (x float32 (b, mels, frames), y[, track ids]): normalised, targets, augmentation."""
    x = np.stack([it[0] for it in items])
    label = np.asarray([it[2] for it in items])
    if clip_level:
        peak = np.asarray([it[1] for it in items], np.float32)
        x = np.maximum(x.astype(np.float32) - peak[:, None, None], np.float32(-g.top_db))
    else:
        x = x.astype(np.float32)
    y = np.eye(num_classes, dtype=np.float32)[label]
    if label_smoothing:
        y = y * np.float32(1.0 - label_smoothing) + np.float32(label_smoothing / num_classes)
    if aug is not None:
        draws = {}
        if aug.per_segment:
            draws.update(augment_lib.draw(aug, len(items), g.n_mels, g.frames, (*key, 2)))
        if aug.mixup_alpha and not with_ids:
            draws.update(augment_lib.mixup_draw(len(items), aug.mixup_alpha, (*key, 3)))
        x = augment_lib.apply(x, draws, float(g.top_db), augment_lib._NP)
        if "lam" in draws:
            x, y = augment_lib.mixup_apply(x, y, draws, augment_lib._NP)
            x, y = x.astype(np.float32), y.astype(np.float32)
    if with_ids:
        return x, y, np.asarray([it[3] for it in items], np.int32)
    return x, y


class GrainSplit:
    """What `load_split` returns: each `iter()` is one pass (a Grain iterator), its randomness drawn from (seed,
    epoch), the epoch taken from the counter; `stream()` runs pass after pass of exactly N batches."""

    def __init__(self, split, *, batch_size, num_classes, shuffle, seed, with_ids, drop_remainder, aug,
                 label_smoothing, counter):
        self.split, self.batch_size, self.shuffle, self.seed = split, batch_size, shuffle, seed
        self.drop_remainder, self.counter = drop_remainder, counter
        self.batch_args = dict(g=split.g, clip_level=split.store.clip_level, num_classes=num_classes,
                               label_smoothing=label_smoothing, aug=aug, with_ids=with_ids)

    def __len__(self):
        n = len(self.split)
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)

    def dataset(self, epoch):
        """The grain.MapDataset of one pass's batches (random access: batch i of epoch `epoch`)."""
        import grain

        split, seed = self.split, self.seed
        crop_seed = _seed(seed, epoch, 1)
        ds = grain.MapDataset.range(len(split))
        if self.shuffle:
            ds = ds.shuffle(seed=_seed(seed, epoch, 2) % 2**32)
        ds = ds.map(lambda i: split.segment(int(i), crop_seed))
        ds = ds.batch(self.batch_size, drop_remainder=self.drop_remainder, batch_fn=list)
        return ds.map_with_index(lambda b, items: _batch(items, key=(seed + 1, epoch, b), **self.batch_args))

    def iterator(self, epoch):
        import grain

        return iter(self.dataset(epoch).to_iter_dataset(grain.ReadOptions(num_threads=workers(),
                                                                          prefetch_buffer_size=2 * workers())))

    def __iter__(self):
        return self.iterator(self.counter.take_next() if self.counter is not None else 0)

    def for_keras(self, steps):
        """A keras.utils.PyDataset of `steps` batches an epoch (training): its epoch is the counter's value, which
        `keras_tsr.train.callbacks.EpochRandomness` sets as each epoch begins, so a resumed epoch k reads what
        epoch k read in an uninterrupted run. Batches come from a Grain iterator over the epoch's batches
        (prefetched by Grain's threads); Keras asks for them in order."""
        if steps > len(self):
            raise ValueError(f"{steps} batches an epoch, but a pass over this split has {len(self)}")
        return _EpochBatches(self, steps)


def _EpochBatches(split, steps):  # noqa: N802 - a class made when keras is imported (the loader itself needs none)
    import keras

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self._epoch, self._next, self._it = None, None, None

        def __len__(self):
            return steps

        def __getitem__(self, i):
            epoch = split.counter.value if split.counter is not None else 0
            if self._it is None or epoch != self._epoch or i != self._next:  # a new epoch, or Keras' peek
                import grain

                ds = split.dataset(epoch)[i:]
                self._it = iter(ds.to_iter_dataset(grain.ReadOptions(num_threads=workers(),
                                                                     prefetch_buffer_size=2 * workers())))
                self._epoch = epoch
            self._next = i + 1
            return next(self._it)

    return EpochBatches()


def load_split(dataset, split, data_dir, batch_size, num_classes, shuffle=False, seed=0, with_ids=False,
               drop_remainder=False, label_map=None, geometry=None, augment=None, label_smoothing=0.0,
               cache="auto", epochs=None, stream=None):
    """`keras_tsr.datasets.pipeline.load_split` without TensorFlow: batches of numpy arrays.

    Unshuffled and unaugmented: a grain.IterDataset (iterable again and again, as Keras' evaluation wants).
    Otherwise a `GrainSplit` (each `iter()` a pass, epochs from `epochs`), or with `stream=N` (training) a
    Keras PyDataset of N batches an epoch, its epoch read from `epochs` (`GrainSplit.for_keras`)."""
    info = records.builder(dataset, data_dir).info
    g = geometry or source.dataset_geometry(info, dataset)
    aug = augment if augment is not None and augment != _NO_AUGMENT else None
    clip_level = source.is_clip_level(info)
    in_memory = source.cache_plan(cache, info, split) == "memory"
    store = _store(dataset, split, data_dir, label_map, in_memory)
    nominal = info.metadata.get("nominal_seconds") if clip_level else None
    reader = _Split(store, g, nominal, crop=clip_level and aug is not None and aug.random_crop)
    out = GrainSplit(reader, batch_size=batch_size, num_classes=num_classes, shuffle=shuffle, seed=int(seed),
                     with_ids=with_ids, drop_remainder=drop_remainder, aug=aug, label_smoothing=label_smoothing,
                     counter=epochs or source.EpochCounter())
    if not shuffle and aug is None:
        import grain

        return out.dataset(0).to_iter_dataset(grain.ReadOptions(num_threads=workers(),
                                                                 prefetch_buffer_size=2 * workers()))
    return out.for_keras(int(stream)) if stream else out


def count_segments(dataset, split, data_dir, label_map=None, geometry=None):
    """How many segments one pass over a split yields (`keras_tsr.datasets.pipeline.count_segments`)."""
    info = records.builder(dataset, data_dir).info
    g = geometry or source.dataset_geometry(info, dataset)
    in_memory = source.cache_plan("auto", info, split) == "memory"
    store = _store(dataset, split, data_dir, label_map, in_memory)
    if not store.clip_level:
        return len(store.index)
    nominal = info.metadata.get("nominal_seconds")
    return int(sum(clip_segments(n, g, nominal) for n in store.num_samples))
