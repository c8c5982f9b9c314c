"""What the TFDS builders share: configurations, features, the per-file front-end and the writer.

`fma_small_logmel/`, `fma_medium_logmel/` and `genre_folder_logmel/` (beside
this module) each define a thin `Builder` over the classes
here, so the three build their examples the same way:

- a *segment* configuration (`12s`, ...) stores each clip's log-mel segments
  as `keras_tsr.audio.clip_features` computes them (each in dB against its own
  maximum, floored at -80 dB);
- a *clip* configuration (`clip`) stores each clip's whole log-mel once, in dB
  against a fixed reference (`keras_tsr.audio.clip_db`), and
  `keras_tsr.datasets.pipeline` cuts segments of any length and overlap from it at load
  time, renormalised exactly as the segment configurations are: the
  slice-length study then needs one build.

Every file is decoded once per build, on all cores (threads; decoding,
resampling and the FFTs release the GIL). Files that do not decode or are too
short are dropped and listed with their reasons in
`info.metadata["dropped_tracks"]` and the build log.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import os
import time

import numpy as np
import tensorflow_datasets as tfds

from keras_tsr import audio
from keras_tsr.errors import ArgumentError

log = logging.getLogger("keras_tsr.datasets")

# Measured by scripts/bench_build.py on a 2-core machine at FMA's bit rate (18.9 tracks/s on 2 cores, writing
# included): used only for the rough time printed when a build starts.
TRACKS_PER_SECOND_PER_CORE = 9.5
# What builds write unless told otherwise: random access, and readable without TensorFlow (tfds.data_source)
FILE_FORMAT = "array_record"


@dataclasses.dataclass
class LogMelConfig(tfds.core.BuilderConfig):
    """segment_seconds: the segment length of a segment configuration; None for the clip configuration."""

    segment_seconds: int | None = 12
    split_scheme: str = "official"
    split_seed: int = 42

    @property
    def is_clip(self):
        return self.segment_seconds is None


@dataclasses.dataclass
class Item:
    """One audio file to turn into examples."""

    key: str  # unique, stable: the example keys derive from it
    track_id: int
    label: str
    extra: dict = dataclasses.field(default_factory=dict)  # further feature values (artist_id, file, ...)


class LogMelBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Base of the log-mel builders: subclasses say which files, labels and splits there are.

    Builds write ArrayRecord unless a file format is asked for (`tfds build --file_format tfrecord`, or
    `file_format=` to the builder or `download_and_prepare`): both loaders read it, the TF-free one only it.
    """

    def __init__(self, *args, file_format=None, **kwargs):
        self._requested_format = file_format
        super().__init__(*args, file_format=file_format, **kwargs)

    def download_and_prepare(self, *, file_format=None, **kwargs):
        return super().download_and_prepare(file_format=file_format or self._requested_format or FILE_FORMAT,
                                            **kwargs)

    # -- what a subclass provides -------------------------------------------
    @abc.abstractmethod
    def _class_names(self) -> list[str] | None:
        """The class names, or None to name them at build time."""

    def _extra_features(self) -> dict:
        """Features beyond log_mel, label, track_id and segment (or num_samples)."""
        return {}

    @abc.abstractmethod
    def _items(self, dl_manager) -> dict[str, list[Item]]:
        """split name -> items; raises a clear error when the manual dir lacks what is needed."""

    @abc.abstractmethod
    def _reader(self, dl_manager):
        """A picklable callable: Item -> (bytes or path, display name)."""

    def _min_samples(self) -> int:
        """Items shorter than this (at the model's rate) are dropped."""
        return 1

    def _max_segments(self) -> int | None:
        """Segments kept per item in a segment configuration (None: as many as the clip gives)."""
        return None

    # -- shared ----------------------------------------------------------------
    def _geometry(self):
        seconds = self.builder_config.segment_seconds
        return audio.Geometry(segment_seconds=float(seconds if seconds is not None else audio.SEGMENT_SECONDS))

    def _info(self) -> tfds.core.DatasetInfo:
        g = self._geometry()
        frames = None if self.builder_config.is_clip else g.frames
        features = {
            "log_mel": tfds.features.Tensor(shape=(g.n_mels, frames), dtype=np.float16,
                                            encoding=tfds.features.Encoding.BYTES),
            "label": tfds.features.ClassLabel(names=self._class_names()),  # None: named at build time
            "track_id": np.int32,
        }
        features.update({"num_samples": np.int32} if self.builder_config.is_clip else {"segment": np.int32})
        features.update(self._extra_features())
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            supervised_keys=("log_mel", "label"),
            metadata=tfds.core.MetadataDict(**self._recorded_metadata()),
        )

    def _recorded_metadata(self):
        cfg = self.builder_config
        geometry = self._geometry().to_dict()
        if cfg.is_clip:
            # segment_seconds is chosen at load time; the rest of the geometry is fixed by the build
            geometry.update(segment_seconds=None, frames=None, hop_frames=None)
        return {"geometry": geometry, "clip_level": cfg.is_clip, "split_scheme": cfg.split_scheme,
                "clip_db_floor": audio.CLIP_DB_FLOOR}

    def _download_and_prepare(self, dl_manager, download_config=None):
        cfg = download_config
        self._use_beam = bool(cfg and (cfg.beam_runner is not None or cfg.beam_options is not None))
        self._pool = None
        try:
            return super()._download_and_prepare(dl_manager, download_config)
        finally:
            # A build that stops early (an error in TFDS' writer, Ctrl-C) leaves files in flight on the pool's
            # threads, which would otherwise still be in libsndfile, soxr and the FFTs while the interpreter
            # shuts down (a segmentation fault at exit): wait for them and drop the rest, whatever happened.
            if self._pool is not None:
                self._pool.close()

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        splits = self._items(dl_manager)
        self.info.metadata.update(self._recorded_metadata())
        if getattr(self, "_use_beam", False):
            # Beam workers cannot write back here: they log each dropped file and count them.
            self.info.metadata["dropped_tracks"] = None
            self.info.metadata["dropped_tracks_note"] = (f"built with Apache Beam: dropped files are in the workers' "
                                                         f"logs and the {self.name}/dropped_tracks counter")
            self.info.metadata["resampled_tracks"] = None
        else:
            self.info.metadata["dropped_tracks"] = {}
            self.info.metadata["resampled_tracks"] = 0
        self.info.metadata["tracks_per_split"] = {k: len(v) for k, v in splits.items()}
        self._announce(splits)
        reader = self._reader(dl_manager)
        process = _ItemProcessor(reader, self.builder_config.segment_seconds, self._min_samples(),
                                 self._max_segments())
        if getattr(self, "_use_beam", False):
            return {name: _beam_examples(process, items, self.name) for name, items in splits.items()}
        workers = max(1, int(os.environ.get("KERAS_TSR_BUILD_WORKERS", os.cpu_count() or 1)))
        pool = self._pool = _SplitPool(process, splits, workers)
        return {name: self._generate_examples(pool, items, name) for name, items in splits.items()}

    def _announce(self, splits):
        """Logs what will be built, with a rough time and disk size, before the work starts."""
        n = sum(len(v) for v in splits.values())
        g = self._geometry()
        if self.builder_config.is_clip:
            per_item = g.n_mels * audio.clip_frames(int(30 * g.sample_rate)) * 2
            what = "one whole-clip log-mel a file"
        else:
            segs = self._max_segments() or audio.num_segments(int(30 * g.sample_rate), audio.segment_samples(
                g.segment_seconds))
            per_item = segs * g.n_mels * g.frames * 2
            what = f"{segs} segments of {g.n_mels} x {g.frames} a file"
        cores = int(os.environ.get("KERAS_TSR_BUILD_WORKERS", os.cpu_count() or 1))
        minutes = n / (TRACKS_PER_SECOND_PER_CORE * cores) / 60
        took = f"{minutes:.0f} min" if minutes >= 1 else f"{minutes * 60:.0f} s"
        log.warning("building %s/%s: %d files (%s), %s; about %.2f GB on disk and %s on %d cores "
                    "(for 30 s clips)", self.name, self.builder_config.name, n,
                    ", ".join(f"{k} {len(v)}" for k, v in splits.items()), what, n * per_item / 1e9, took, cores)

    def _generate_examples(self, pool, items, split_name):
        """One split's examples, from the build's shared pool."""
        from tqdm.auto import tqdm

        sample_rate = self._geometry().sample_rate
        start = time.time()
        for item, (examples, error, info) in tqdm(pool.results(split_name), total=len(items), desc=split_name,
                                                  unit="file"):
            if error is not None:
                with audio.stderr_shown():  # the workers' decoders send stderr to /dev/null while they run
                    log.warning("dropped track %s: %s", item.key, error)
                self.info.metadata["dropped_tracks"][item.key] = error
                continue
            if info["sample_rate"] != sample_rate:
                self.info.metadata["resampled_tracks"] += 1
            yield from examples
        log.info("%s: %d files in %.1f s", split_name, len(items), time.time() - start)


class _SplitPool:
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


class _ItemProcessor:
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


def _beam_examples(process, items, name):
    beam = tfds.core.lazy_imports.apache_beam

    def examples(item):
        out, error, _ = process(item)
        if error is not None:
            log.warning("dropped track %s: %s", item.key, error)
            beam.metrics.Metrics.counter(name, "dropped_tracks").inc()
        return out

    return beam.Create(items) | beam.FlatMap(examples)


# ----------------------------------------------------------------------------
# FMA
# ----------------------------------------------------------------------------


def fma_configs():
    """The FMA builders' configurations: the paper's 12 s segments and the clip level, each in both split schemes."""
    official = "FMA's official artist-filtered split (no artist in two splits)"
    paper = "the paper's seeded 8:1:1 split by track, stratified by genre (an artist's songs may sit in train and test)"
    return [
        LogMelConfig(name="12s", segment_seconds=12, split_scheme="official",
                     description=f"12 s segments at 50% overlap (the paper's), {official}."),
        LogMelConfig(name="12s_paper_split", segment_seconds=12, split_scheme="paper",
                     description=f"12 s segments at 50% overlap, {paper}."),
        LogMelConfig(name="clip", segment_seconds=None, split_scheme="official",
                     description=f"Whole-clip log-mel; segments of any length cut at load time. {official}."),
        LogMelConfig(name="clip_paper_split", segment_seconds=None, split_scheme="paper",
                     description=f"Whole-clip log-mel; segments of any length cut at load time. {paper}."),
    ]


class _FmaReader:
    def __init__(self, source):
        self.source = source

    def __call__(self, item):
        return self.source.audio_file(item.track_id), self.source.member(item.track_id)


class FmaLogmelBuilder(LogMelBuilder, skip_registration=True):
    """An FMA subset (class attribute SUBSET) as log-mel examples."""

    SUBSET = "small"
    BUILDER_CONFIGS = fma_configs()
    DEFAULT_CONFIG_NAME = "12s"

    def _class_names(self):
        from keras_tsr.data import fma

        return fma.genre_names(self.SUBSET)

    def _extra_features(self):
        return {"artist_id": np.int32}

    def _recorded_metadata(self):
        from keras_tsr.data import fma

        # cut_segments keeps at most a nominal 30 s clip's segments, as the segment configurations do
        return {**super()._recorded_metadata(), "nominal_seconds": fma.NOMINAL_SECONDS}

    def _min_samples(self):
        from keras_tsr.data import fma

        seconds = self.builder_config.segment_seconds
        # The clip level must give every segment of a 30 s clip at every slice length it may be cut to.
        lengths = fma.SLICE_SECONDS if seconds is None else (seconds,)
        return max(fma.min_samples(s) for s in lengths)

    def _max_segments(self):
        from keras_tsr.data import fma

        seconds = self.builder_config.segment_seconds
        return None if seconds is None else fma.segments_per_clip(seconds)

    def _items(self, dl_manager):
        from keras_tsr.data import fma

        cfg = self.builder_config
        self._source = fma.FmaSource(dl_manager.manual_dir, self.SUBSET)  # a clear ManualDirError if files are missing
        genres = set(self._class_names())
        tracks = [t for t in self._source.tracks() if t.genre in genres]
        if not tracks:
            raise ArgumentError(f"tracks.csv lists no {self.SUBSET} tracks with a top genre")
        splits = fma.official_splits(tracks) if cfg.split_scheme == "official" else fma.paper_splits(
            tracks, cfg.split_seed)
        return {name: [Item(f"{t.track_id:06d}", t.track_id, t.genre, {"artist_id": t.artist_id}) for t in ts]
                for name, ts in splits.items()}

    def _reader(self, dl_manager):
        return _FmaReader(self._source)


# ----------------------------------------------------------------------------
# Your own music: a folder of genre folders (GTZAN or any collection)
# ----------------------------------------------------------------------------

# Clips shorter than this are dropped; longer ones shorter than a segment give one zero-padded segment.
MIN_CLIP_SECONDS = 1.0


def folder_configs():
    random = "a seeded 8:1:1 split by file, stratified by genre"
    return [
        LogMelConfig(name="clip", segment_seconds=None, split_scheme="random",
                     description=f"Whole-clip log-mel (segments of any length cut at load time); {random}."),
        LogMelConfig(name="clip_folds", segment_seconds=None, split_scheme="folds",
                     description="Whole-clip log-mel in ten stratified folds by file (fold0 ... fold9), for k-fold "
                                 "cross-validation (`tsr cv`)."),
        LogMelConfig(name="clip_lists", segment_seconds=None, split_scheme="lists",
                     description="Whole-clip log-mel, split by the train/validation/test list files in the manual "
                                 "dir (e.g. the artist-filtered GTZAN split of Kereliuk et al. 2015)."),
        LogMelConfig(name="12s", segment_seconds=12, split_scheme="random",
                     description=f"12 s segments at 50% overlap; {random}."),
    ]


class _FileReader:
    def __call__(self, item):
        return item.extra_path, item.extra["file"]


@dataclasses.dataclass
class _FileItem(Item):
    extra_path: str = ""


class GenreFolderBuilder(LogMelBuilder, skip_registration=True):
    """Any folder of genre folders (see `keras_tsr.data.folders`); the genres are named at build time."""

    BUILDER_CONFIGS = folder_configs()
    DEFAULT_CONFIG_NAME = "clip"

    def _class_names(self):
        return None

    def _extra_features(self):
        return {"file": tfds.features.Text()}

    def _min_samples(self):
        return int(MIN_CLIP_SECONDS * audio.SAMPLE_RATE)

    def _items(self, dl_manager):
        from keras_tsr.data import folders

        cfg = self.builder_config
        files = folders.scan(dl_manager.manual_dir)
        self.info.features["label"].names = folders.genres(files)
        if cfg.split_scheme == "folds":
            splits = folders.stratified_folds(files, cfg.split_seed)
        elif cfg.split_scheme == "lists":
            splits = folders.list_split(files, dl_manager.manual_dir)
        else:
            splits = folders.stratified_split(files, cfg.split_seed)
        # TFDS cannot write a split without examples: a folder too small is one line now, not an assertion later
        need, purpose = {"folds": (2, "ten folds"), "lists": (1, "the listed split")}.get(
            cfg.split_scheme, (3, "an 8:1:1 split"))
        folders.check_enough(files, splits, folders.unreadable(files), need, purpose, dl_manager.manual_dir)
        return {name: [_FileItem(f"{f.file_id:06d}", f.file_id, f.genre, {"file": f.relpath}, extra_path=f.path)
                       for f in fs] for name, fs in splits.items() if fs}

    def _reader(self, dl_manager):
        return _FileReader()
