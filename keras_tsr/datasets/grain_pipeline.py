"""The TensorFlow-free input pipeline: an ArrayRecord build read through `tfds.data_source`, batched by Grain.

`load_split` here yields what `keras_tsr.datasets.pipeline.load_split` (tf.data) yields: the same segments cut
from clip-level builds, the same per-segment normalisation, genre subsets and label maps, and for an
unshuffled, unaugmented split the same batches in the same order, value for value (tests/datasets/
grain_test.py). Its randomness is drawn from (seed, epoch, index) with numpy, so a shuffled or augmented
pass repeats exactly with its seed and epoch (a resumed run sees what an uninterrupted one saw), though not
the tf.data loader's draws.

The split's kept records are read once and held in memory when they fit in a quarter of the RAM (as tf.data's
cache "auto"); otherwise segments are cut from clips read on demand, a shuffled pass then mixing the segments
within windows of clips (`WINDOW`) so that each clip is decoded about once. A batch is cut into one float32
array and normalised, targeted and augmented as a whole (numpy, in place); Grain's thread pool
(`ReadOptions(num_threads)`) makes batches ahead of training.
"""

from __future__ import annotations

import collections
import logging
import os
import threading

import numpy as np

from keras_tsr import audio
from keras_tsr.datasets import augment as augment_lib
from keras_tsr.datasets import records, source

log = logging.getLogger("keras_tsr.datasets")
_NO_AUGMENT = augment_lib.Augment()
# Read from disk (a split too large for memory), a shuffled pass shuffles whole clips, then the segments within
# windows of WINDOW clips (as tf.data's shuffle buffer mixes the segments of the clips it holds), so that each
# clip is decoded about once a pass; RECENT clips stay decoded meanwhile (about 170 MB of 30 s clips).
WINDOW = 256
RECENT = 2 * WINDOW
_STORES: dict = {}
_STORES_LOCK = threading.Lock()


def _seed(*parts) -> int:
    """A 63-bit int drawn from integers (seed, epoch, tag, ...): a stateless root for one pass's draws."""
    return int(np.random.SeedSequence([int(p) % 2**63 for p in parts]).generate_state(2, np.uint64)[0] >> 1)


def workers():
    """Threads Grain makes batches with: $KERAS_TSR_LOADER_THREADS, else the cores (at most 16)."""
    return max(1, int(os.environ.get("KERAS_TSR_LOADER_THREADS", min(16, os.cpu_count() or 1))))


class _Store:
    """A split's examples that the label map keeps: labels, track ids, clip lengths and widths, and the log-mel of
    each (in memory, or read from the data source on demand)."""

    def __init__(self, dataset, split, data_dir, label_map, in_memory, target="label"):
        import grain

        info = source.builder(dataset, data_dir).info
        records.require_random_access(dataset, info)
        self.dataset, self.data_dir, self.in_memory, self.target = dataset, data_dir, in_memory, target
        self._recent, self._lock = collections.OrderedDict(), threading.Lock()
        self.source = records.source(dataset, split, data_dir)
        self.clip_level = source.is_clip_level(info)
        keep = None if label_map is None else np.asarray(label_map)
        rows = grain.MapDataset.source(self.source).map(self._row).to_iter_dataset(
            grain.ReadOptions(num_threads=workers(), prefetch_buffer_size=64))
        index, labels, track_ids, num_samples, widths, self.log_mel = [], [], [], [], [], []
        try:
            for i, (label, tid, n, x) in enumerate(rows):
                if keep is not None and keep[label] < 0:
                    continue
                index.append(i)
                labels.append(label if keep is None else int(keep[label]))
                track_ids.append(tid)
                num_samples.append(n)
                widths.append(x.shape[1])
                self.log_mel.append(x if in_memory else None)
        except (OSError, RuntimeError) as e:
            self.damaged(e)
        # one genre: (n,) int64; a multi-label target: (n, genres) uint8 multi-hot
        self.index = np.asarray(index, np.int64)
        self.labels = np.asarray(labels, np.int64) if target == "label" else np.asarray(labels, np.uint8)
        self.track_ids, self.num_samples = np.asarray(track_ids, np.int32), np.asarray(num_samples, np.int64)
        self.widths = np.asarray(widths, np.int64)

    def _row(self, ex):
        label = int(ex["label"]) if self.target == "label" else np.asarray(ex[self.target], np.uint8)
        return (label, int(ex["track_id"]), int(ex["num_samples"]) if self.clip_level else 0, ex["log_mel"])

    def damaged(self, error):
        from keras_tsr.datasets import verify

        log.debug("reading %s failed: %s", self.dataset, error)
        verify.raise_damaged(self.dataset, self.data_dir)

    def clip(self, pos):
        """The log-mel, as stored, of kept example `pos` (read from disk: the last `RECENT` read are kept, so the
        segments of a clip that a pass asks for close together decode it once)."""
        if self.in_memory:
            return self.log_mel[pos]
        with self._lock:
            if pos in self._recent:
                self._recent.move_to_end(pos)
                return self._recent[pos]
        try:
            x = self.source[int(self.index[pos])]["log_mel"]
        except (OSError, RuntimeError) as e:
            self.damaged(e)
        with self._lock:
            self._recent[pos] = x
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return x


_KEPT_STORES = 4  # a run reads train, validation and test: the stores of an earlier run in this process go


def _store(dataset, split, data_dir, label_map, cache, target="label"):
    """One store per (build, split, label map, target) a process reads: counting, training and evaluation share
    it."""
    key = (dataset, str(split), os.path.abspath(data_dir), None if label_map is None else tuple(label_map), cache,
           target)
    with _STORES_LOCK:
        if key not in _STORES:
            info = source.builder(dataset, data_dir).info
            in_memory = source.cache_plan(cache, info, split, when="as it is first read") == "memory"
            _STORES[key] = _Store(dataset, split, data_dir, label_map, in_memory, target)
            while len(_STORES) > _KEPT_STORES:
                _STORES.pop(next(iter(_STORES)))
        return _STORES[key]


def clip_segments(num_samples, geometry, nominal_seconds=None):
    """numpy: the segments a clip gives, as `keras_tsr.datasets.pipeline.clip_segment_count` counts them."""
    g = geometry
    seg = float(audio.segment_samples(g.segment_seconds, g.sample_rate))
    n = int(audio.num_segments(np.float64(num_samples), seg, g.overlap, xp=np))
    if nominal_seconds:
        n = min(n, int(audio.num_segments(int(nominal_seconds * g.sample_rate), int(seg), g.overlap)))
    return n


class _Split:
    """The read side of `load_split`: a store, where each segment starts, and how a batch of them is cut."""

    def __init__(self, store, geometry, nominal, crop):
        self.store, self.g, self.crop = store, geometry, crop
        if store.clip_level:
            counts = [clip_segments(n, geometry, nominal) for n in store.num_samples]
        else:
            counts = [1] * len(store.index)
        self.counts = np.asarray(counts, np.int64)
        self.record = np.repeat(np.arange(len(counts)), self.counts)  # each segment's example
        # each segment's place among its clip's: the grid starts at k * hop
        self.k = np.arange(len(self.record)) - np.repeat(np.cumsum(self.counts) - self.counts, self.counts)
        if store.clip_level:
            real = np.minimum([audio.clip_frames(int(n)) for n in store.num_samples], store.widths)
            self.real = np.asarray(real, np.int64)  # frames that see the clip's audio: where crops may start

    def __len__(self):
        return len(self.record)

    def order(self, rng=None):
        """The pass's segment order: as stored without `rng`; else shuffled (whole clips, then the segments within
        windows of `WINDOW` clips when the clips are read from disk)."""
        n = len(self.record)
        if rng is None:
            return np.arange(n)
        if self.store.in_memory or not self.store.clip_level:
            return rng.permutation(n)
        first = np.cumsum(self.counts) - self.counts  # each clip's first segment
        clips = rng.permutation(len(self.counts))
        windows = [clips[i:i + WINDOW] for i in range(0, len(clips), WINDOW)]
        return np.concatenate([rng.permutation(np.concatenate([np.arange(first[c], first[c] + self.counts[c])
                                                               for c in w])) for w in windows] or [np.arange(0)])

    def starts(self, crop_seed):
        """Each segment's first frame this pass: the grid, or random crops drawn per clip from `crop_seed`."""
        if not self.store.clip_level:
            return np.zeros(len(self.record), np.int64)
        if not self.crop:
            return self.k * self.g.hop_frames
        return np.concatenate([augment_lib.random_starts(int(n), int(r), self.g.frames, (crop_seed, pos))
                               for pos, (n, r) in enumerate(zip(self.counts, self.real, strict=True))]
                              or [np.zeros(0, np.int32)]).astype(np.int64)

    def cut(self, idx, starts):
        """Segments `idx` (starting at `starts[idx]`) -> (log-mel float32 (b, mels, frames) as stored, peaks
        (b,) float32 or None for a segment build, labels, track ids). Frames past a clip are silence."""
        g, s = self.g, self.store
        pos = self.record[idx]
        x = np.empty((len(idx), g.n_mels, g.frames), np.float32)
        peak = np.empty(len(idx), np.float32) if s.clip_level else None
        read = {}  # a clip read from disk serves all of its segments in the batch
        for j, (p, start) in enumerate(zip(pos, starts[idx], strict=True)):
            clip = read[p] if p in read else read.setdefault(p, s.clip(int(p)))
            seg = clip[:, start:start + g.frames]
            w = seg.shape[1]
            x[j, :, :w] = seg  # float16 -> float32, exact
            if w < g.frames:
                x[j, :, w:] = audio.CLIP_DB_FLOOR
            if peak is not None:
                peak[j] = x[j].max()  # over the padded segment, as tf.data takes it
        return x, peak, s.labels[pos], s.track_ids[pos]


def _batch(x, peak, label, *, g, num_classes, label_smoothing, aug, key, mix):
    """Cut segments -> (x float32 (b, mels, frames), y): normalised against their peaks (in place), targets,
    augmentation (`keras_tsr.datasets.augment`, on numpy)."""
    if peak is not None:
        x -= peak[:, None, None]
        np.maximum(x, np.float32(-g.top_db), out=x)
    if label.ndim == 2:  # multi-hot (multi-label build): each genre smoothed towards 0.5
        y = label.astype(np.float32)
        if label_smoothing:
            y = y * np.float32(1.0 - label_smoothing) + np.float32(0.5 * label_smoothing)
    else:
        y = np.eye(num_classes, dtype=np.float32)[label]
        if label_smoothing:
            y = y * np.float32(1.0 - label_smoothing) + np.float32(label_smoothing / num_classes)
    if aug is not None:
        draws = {}
        if aug.per_segment:
            draws.update(augment_lib.draw(aug, len(x), g.n_mels, g.frames, (*key, 2)))
        if aug.mixup_alpha and mix:
            draws.update(augment_lib.mixup_draw(len(x), aug.mixup_alpha, (*key, 3)))
        x = augment_lib.apply(x, draws, float(g.top_db), augment_lib._NP, own=True)  # the batch is ours
        if "lam" in draws:
            x, y = augment_lib.mixup_apply(x, y, draws, augment_lib._NP, own=True)
    return x, y


def _prefetched(batches):
    """A grain.MapDataset of batches as a grain.IterDataset that Grain's threads make ahead of their use."""
    import grain

    return batches.to_iter_dataset(grain.ReadOptions(num_threads=workers(), prefetch_buffer_size=2 * workers()))


class GrainSplit:
    """What `load_split` returns: each `iter()` is one pass (a Grain iterator), its randomness drawn from (seed,
    epoch), the epoch taken from the counter; `for_keras(N)` is what training iterates."""

    def __init__(self, split, *, batch_size, num_classes, shuffle, seed, with_ids, drop_remainder, aug,
                 label_smoothing, counter):
        self.split, self.batch_size, self.shuffle, self.seed = split, batch_size, shuffle, seed
        self.drop_remainder, self.counter, self.with_ids, self.aug = drop_remainder, counter, with_ids, aug
        self.batch_args = dict(g=split.g, num_classes=num_classes, label_smoothing=label_smoothing, aug=aug)

    def __len__(self):
        n = len(self.split)
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)

    def dataset(self, epoch):
        """The grain.MapDataset of one pass's batches (random access: batch i of epoch `epoch`): the segments'
        order and crops drawn from (seed, epoch), then each batch cut, normalised and augmented as a whole."""
        import grain

        split, seed, with_ids = self.split, self.seed, self.with_ids
        order = split.order(np.random.default_rng(_seed(seed, epoch, 2)) if self.shuffle else None)
        starts = split.starts(_seed(seed, epoch, 1))
        # mixup mixes training batches only: an evaluation pass (with ids) is never mixed
        mixes = self.aug is not None and self.aug.mixup_alpha and not with_ids

        def make(b, idx):
            x, peak, label, tid = split.cut(np.asarray(idx), starts)
            x, y = _batch(x, peak, label, key=(seed + 1, epoch, b), mix=mixes, **self.batch_args)
            return (x, y, tid) if with_ids else (x, y)

        ds = grain.MapDataset.source(order).batch(self.batch_size, drop_remainder=self.drop_remainder,
                                                  batch_fn=np.asarray)
        return ds.map_with_index(make)
    def __iter__(self):
        return iter(_prefetched(self.dataset(self.counter.take_next())))

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
            epoch = split.counter.value
            if self._it is None or epoch != self._epoch or i != self._next:  # a new epoch, or Keras' peek
                self._it = iter(_prefetched(split.dataset(epoch)[i:]))
                self._epoch = epoch
            self._next = i + 1
            return next(self._it)

    return EpochBatches()


def load_split(dataset, split, data_dir, batch_size, num_classes, shuffle=False, seed=0, with_ids=False,
               drop_remainder=False, label_map=None, geometry=None, augment=None, label_smoothing=0.0,
               cache="auto", epochs=None, stream=None, target="label"):
    """`keras_tsr.datasets.pipeline.load_split` without TensorFlow: batches of numpy arrays.

    Unshuffled and unaugmented: a grain.IterDataset (iterable again and again, as Keras' evaluation wants).
    Otherwise a `GrainSplit` (each `iter()` a pass, epochs from `epochs`), or with `stream=N` (training) a
    Keras PyDataset of N batches an epoch, its epoch read from `epochs` (`GrainSplit.for_keras`)."""
    info = source.builder(dataset, data_dir).info
    g = geometry or source.dataset_geometry(info, dataset)
    aug = augment if augment is not None and augment != _NO_AUGMENT else None
    clip_level = source.is_clip_level(info)
    store = _store(dataset, split, data_dir, label_map, cache, target)
    nominal = info.metadata.get("nominal_seconds") if clip_level else None
    reader = _Split(store, g, nominal, crop=clip_level and aug is not None and aug.random_crop)
    out = GrainSplit(reader, batch_size=batch_size, num_classes=num_classes, shuffle=shuffle, seed=int(seed),
                     with_ids=with_ids, drop_remainder=drop_remainder, aug=aug, label_smoothing=label_smoothing,
                     counter=epochs or source.EpochCounter())
    if not shuffle and aug is None:
        return _prefetched(out.dataset(0))
    return out.for_keras(int(stream)) if stream else out


def count_segments(dataset, split, data_dir, label_map=None, geometry=None):
    """How many segments one pass over a split yields (`keras_tsr.datasets.pipeline.count_segments`)."""
    info = source.builder(dataset, data_dir).info
    g = geometry or source.dataset_geometry(info, dataset)
    store = _store(dataset, split, data_dir, label_map, "auto")  # the store training then reads
    nominal = info.metadata.get("nominal_seconds") if store.clip_level else None
    return len(_Split(store, g, nominal, crop=False))
