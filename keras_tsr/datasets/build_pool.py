"""How a log-mel build does its work: one thread pool across the splits, the per-file processor, the Beam path.

Every file is decoded once per build, on all cores (threads; decoding,
resampling and the FFTs release the GIL). Files that do not decode or are too
short come back as an error string, which the builder records in
`info.metadata["dropped_tracks"]` and logs.
"""

from __future__ import annotations

import logging

import numpy as np
import tensorflow_datasets as tfds

from keras_tsr import audio

log = logging.getLogger("keras_tsr.datasets")


class SplitPool:
    """One thread pool for every split of a build, working ahead across split boundaries.

    TFDS writes the splits one after another; with a pool per split the cores
    would idle while a split's last files finish and while TFDS shuffles and
    writes it. Here the next split's files are already being processed then.
    At most `ahead` files are in flight or waiting to be consumed, so memory
    stays bounded; a split asked for out of order still gets its own files.
    Threads with one BLAS/FFT thread each: decoding (libsndfile), resampling
    (soxr) and the FFTs release the GIL.
    """

    def __init__(self, process, splits, workers, ahead=None):
        self._process = process
        self._order = [(name, item) for name, items in splits.items() for item in items]
        self._of_split = {name: [] for name in splits}
        for k, (name, _) in enumerate(self._order):
            self._of_split[name].append(k)
        self._workers = workers
        self._ahead = ahead or 4 * workers
        self._futures = {}  # submitted and not yet consumed
        self._submitted = [False] * len(self._order)
        self._next = 0  # the first index not yet submitted in build order
        self._pool = self._limits = None
        self._left = len(self._order)

    def _submit(self, k):
        if not self._submitted[k]:
            self._submitted[k] = True
            self._futures[k] = self._pool.submit(self._process, self._order[k][1])

    def _fill(self):
        while self._next < len(self._order) and len(self._futures) < self._ahead:
            self._submit(self._next)
            self._next += 1

    def results(self, split_name):
        """(item, (examples, error, info)) for each of `split_name`'s items, in order."""
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        if self._pool is None:
            self._limits = threadpool_limits(1)
            self._pool = ThreadPoolExecutor(self._workers)
        try:
            for k in self._of_split[split_name]:
                self._submit(k)
                self._fill()
                result = self._futures.pop(k).result()
                self._left -= 1
                self._fill()
                yield self._order[k][1], result
        except BaseException:  # the build stopped (an error, or the consumer let go): stop the work queued
            self.close()
            raise
        if self._left == 0:
            self.close()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._limits.restore_original_limits()
            self._pool = None
        self._futures.clear()


class ItemProcessor:
    """Item -> (examples, error, info); picklable for Beam workers."""

    def __init__(self, reader, segment_seconds, min_samples, max_segments):
        self.reader = reader
        self.segment_seconds = segment_seconds
        self.min_samples = min_samples
        self.max_segments = max_segments

    def __call__(self, item):
        try:
            source, name = self.reader(item)
            x, sr = audio.decode(source, name=name)
            duration = len(x) / sr
            x = audio.resample(x, sr)
            if len(x) < self.min_samples:
                raise audio.AudioError(f"{name}: too short ({duration:.2f} s; needs "
                                       f"{self.min_samples / audio.SAMPLE_RATE:.2f} s)")
            common = {"label": item.label, "track_id": item.track_id, **item.extra}
            if self.segment_seconds is None:
                examples = [(item.key, {"log_mel": audio.clip_db(x).astype(np.float16), "num_samples": len(x),
                                        **common})]
            else:
                feats = audio.clip_features(x, float(self.segment_seconds))[: self.max_segments]
                examples = [(f"{item.key}_{i:02d}", {"log_mel": seg.astype(np.float16), "segment": i, **common})
                            for i, seg in enumerate(feats)]
        except (audio.AudioError, FileNotFoundError) as e:
            return [], str(e), None
        return examples, None, {"sample_rate": sr, "duration": duration}


def beam_examples(process, items, name):
    beam = tfds.core.lazy_imports.apache_beam

    def examples(item):
        out, error, _ = process(item)
        if error is not None:
            log.warning("dropped track %s: %s", item.key, error)
            beam.metrics.Metrics.counter(name, "dropped_tracks").inc()
        return out

    return beam.Create(items) | beam.FlatMap(examples)
