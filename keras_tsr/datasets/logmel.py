"""What every log-mel TFDS builder shares: the configuration, the features, the front-end and the writer.

`fma_small_logmel/`, `fma_medium_logmel/` and `genre_folder_logmel/` (beside
this module) each define a `Builder` over `LogMelBuilder`, which says which
files, labels and splits there are (the two FMA builders through
`fma_builder`), so the three build their examples the same way:

- a *segment* configuration (`12s`, ...) stores each clip's log-mel segments
  as `keras_tsr.audio.clip_features` computes them (each in dB against its own
  maximum, floored at -80 dB);
- a *clip* configuration (`clip`) stores each clip's whole log-mel once, in dB
  against a fixed reference (`keras_tsr.audio.clip_db`), and
  `keras_tsr.datasets.pipeline` cuts segments of any length and overlap from it at load
  time, renormalised exactly as the segment configurations are: the
  slice-length study then needs one build.

Every file is decoded once per build, on all cores (`build_pool`). Files
that do not decode or are too short are dropped and listed with their reasons
in `info.metadata["dropped_tracks"]` and the build log.
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
from keras_tsr.datasets import build_pool

log = logging.getLogger("keras_tsr.datasets")

# Measured by scripts/bench_build.py on a 2-core machine at FMA's bit rate (18.9 tracks/s on 2 cores, writing
# included): used only for the rough time printed when a build starts.
TRACKS_PER_SECOND_PER_CORE = 9.5
# What builds write unless told otherwise: random access, and readable without TensorFlow (tfds.data_source)
FILE_FORMAT = "array_record"


@dataclasses.dataclass
class LogMelConfig(tfds.core.BuilderConfig):
    """segment_seconds: the segment length of a segment configuration; None for the clip configuration.
    multilabel: each example also stores its track's genres as multi-hot vectors (`genres`, `genres_all`)."""

    segment_seconds: int | None = 12
    split_scheme: str = "official"
    split_seed: int = 42
    multilabel: bool = False

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
        if self.builder_config.multilabel:  # over the genre vocabulary the build finds (the info's metadata)
            multi_hot = tfds.features.Tensor(shape=(None,), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES)
            features.update(genres=multi_hot, genres_all=multi_hot)
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
        out = {"geometry": geometry, "clip_level": cfg.is_clip, "split_scheme": cfg.split_scheme,
               "clip_db_floor": audio.CLIP_DB_FLOOR, "task": "multilabel" if cfg.multilabel else "single_label"}
        if getattr(self, "_vocabulary", None) is not None:  # a multi-label build's genres: id, title, parent, root
            out["genre_vocabulary"] = self._vocabulary
        return out

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
        if self.builder_config.multilabel:  # each genre's tracks a split (genres_all): --class-weight reads them
            self.info.metadata["genre_counts"] = {
                k: np.sum([it.extra["genres_all"] for it in v], axis=0, dtype=np.int64).tolist() for k, v in
                splits.items()}
        self._announce(splits)
        reader = self._reader(dl_manager)
        process = build_pool.ItemProcessor(reader, self.builder_config.segment_seconds, self._min_samples(),
                                 self._max_segments())
        if getattr(self, "_use_beam", False):
            return {name: build_pool.beam_examples(process, items, self.name) for name, items in splits.items()}
        workers = max(1, int(os.environ.get("KERAS_TSR_BUILD_WORKERS", os.cpu_count() or 1)))
        pool = self._pool = build_pool.SplitPool(process, splits, workers)
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
