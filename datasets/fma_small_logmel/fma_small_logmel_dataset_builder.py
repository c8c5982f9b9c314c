"""fma_small_logmel: FMA clips as log-mel segments for TS-Resformer."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import tensorflow_datasets as tfds

log = logging.getLogger(__name__)

_DESCRIPTION = """\
The Free Music Archive (FMA) small subset (8,000 30 s clips, 8 balanced top
genres) or medium subset (25,000 clips, 16 unbalanced top genres), as log-mel
spectrogram segments for TS-Resformer (Zhang, Front. Neurorobot. 2025).

Each clip is decoded, resampled to 44.1 kHz mono, z-scored, sliced into
segments of `segment_seconds` with 50% overlap (zero-padding the tail) and
turned into a 128-band Slaney log-mel (Hann, n_fft 4096, hop 1024, dB relative
to the segment's own maximum, floored at -80 dB) by `keras_tsr.audio`, the
same front-end that prediction and the exported model use. log_mel is stored
as float16 (values in [-80, 0]; steps of at most 0.06 dB).

Tracks that do not decode or are too short to give every segment of a 30 s
clip are dropped; the list, with reasons, is in the dataset metadata
(`info.metadata["dropped_tracks"]`) and the build log.
"""

_CITATION = """\
@inproceedings{defferrard2017fma,
  title = {{FMA}: A Dataset for Music Analysis},
  author = {Defferrard, Micha\\"el and Benzi, Kirell and Vandergheynst, Pierre and Bresson, Xavier},
  booktitle = {18th International Society for Music Information Retrieval Conference (ISMIR)},
  year = {2017},
}
"""

SEGMENT_SECONDS = (3, 5, 6, 10, 12, 15)
SUBSETS = ("small", "medium")


@dataclasses.dataclass
class FmaConfig(tfds.core.BuilderConfig):
    subset: str = "small"
    segment_seconds: int = 12
    split_scheme: str = "official"  # or "paper": seeded 8:1:1 by track, stratified by genre
    split_seed: int = 42


def _configs():
    configs = []
    for subset in SUBSETS:
        for seconds in SEGMENT_SECONDS:
            for scheme in ("official", "paper"):
                name = f"{seconds}s" if subset == "small" else f"{subset}_{seconds}s"
                if scheme == "paper":
                    name += "_paper_split"
                split_desc = ("FMA's official artist-filtered split" if scheme == "official"
                              else "the paper's seeded 8:1:1 split by track, stratified by genre")
                configs.append(FmaConfig(
                    name=name, subset=subset, segment_seconds=seconds, split_scheme=scheme,
                    description=f"fma_{subset}, {seconds} s segments at 50% overlap, {split_desc}."))
    return configs


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for fma_small_logmel."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = _configs()
    DEFAULT_CONFIG_NAME = "12s"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Download from https://github.com/mdeff/fma and place in `manual_dir`:
      fma_small.zip     (7.2 GiB; fma_medium.zip for the medium_* configs)
      fma_metadata.zip  (342 MiB)
    or their extracted folders fma_small/ (NNN/NNNNNN.mp3) and fma_metadata/
    (tracks.csv). Then: tfds build datasets/fma_small_logmel --config 12s --manual_dir DIR
    """

    def _geometry(self):
        from keras_tsr import audio

        return audio.Geometry(segment_seconds=float(self.builder_config.segment_seconds))

    def _info(self) -> tfds.core.DatasetInfo:
        from keras_tsr import fma

        geometry = self._geometry()
        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict({
                "log_mel": tfds.features.Tensor(shape=(geometry.n_mels, geometry.frames), dtype=np.float16,
                                                encoding=tfds.features.Encoding.BYTES),
                "label": tfds.features.ClassLabel(names=fma.genre_names(self.builder_config.subset)),
                "track_id": np.int32,
                "segment": np.int32,
                "artist_id": np.int32,
            }),
            supervised_keys=("log_mel", "label"),
            homepage="https://github.com/mdeff/fma",
            citation=_CITATION,
            metadata=tfds.core.MetadataDict(geometry=geometry.to_dict(),
                                            split_scheme=self.builder_config.split_scheme),
        )

    def _download_and_prepare(self, dl_manager, download_config=None):
        cfg = download_config
        self._use_beam = bool(cfg and (cfg.beam_runner is not None or cfg.beam_options is not None))
        return super()._download_and_prepare(dl_manager, download_config)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        from keras_tsr import fma

        cfg = self.builder_config
        source = fma.FmaSource(dl_manager.manual_dir, cfg.subset)  # a clear ManualDirError if files are missing
        genres = set(fma.genre_names(cfg.subset))
        tracks = [t for t in source.tracks() if t.genre in genres]
        if not tracks:
            raise ValueError(f"tracks.csv lists no {cfg.subset} tracks with a top genre")
        splits = fma.official_splits(tracks) if cfg.split_scheme == "official" else fma.paper_splits(
            tracks, cfg.split_seed)
        if getattr(self, "_use_beam", False):
            # Beam workers cannot write back here: they log each dropped track and count them.
            self.info.metadata["dropped_tracks"] = None
            self.info.metadata["dropped_tracks_note"] = ("built with Apache Beam: dropped tracks are in the "
                                                         "workers' logs and the fma_small_logmel/dropped_tracks "
                                                         "counter")
            self.info.metadata["resampled_tracks"] = None
        else:
            self.info.metadata["dropped_tracks"] = {}
            self.info.metadata["resampled_tracks"] = 0
        self.info.metadata["geometry"] = self._geometry().to_dict()
        self.info.metadata["split_scheme"] = cfg.split_scheme
        self.info.metadata["tracks_per_split"] = {k: len(v) for k, v in splits.items()}
        return {name: self._generate_examples(source, split_tracks, name) for name, split_tracks in splits.items()}

    def _generate_examples(self, source, tracks, split_name):
        if getattr(self, "_use_beam", False):
            return _beam_examples(source, tracks, self.builder_config.segment_seconds)
        return self._local_examples(source, tracks, split_name)

    def _local_examples(self, source, tracks, split_name):
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits
        from tqdm.auto import tqdm

        from keras_tsr import fma

        seconds = self.builder_config.segment_seconds
        process = _TrackProcessor(source, seconds)
        sample_rate = self._geometry().sample_rate
        # Threads, one BLAS/FFT thread each: decoding (libsndfile), resampling
        # (soxr) and the FFTs release the GIL, so both cores work.
        with threadpool_limits(1), ThreadPoolExecutor(fma.build_workers()) as pool:
            results = pool.map(process, tracks)
            for track, (examples, error, info) in tqdm(zip(tracks, results), total=len(tracks),
                                                       desc=f"{split_name}", unit="track"):
                if error is not None:
                    log.warning("dropped track %06d: %s", track.track_id, error)
                    self.info.metadata["dropped_tracks"][f"{track.track_id:06d}"] = error
                    continue
                if info["sample_rate"] != sample_rate:
                    self.info.metadata["resampled_tracks"] += 1
                yield from examples


class _TrackProcessor:
    """track -> (examples, error, info); picklable for Beam workers."""

    def __init__(self, source, seconds):
        self.source = source
        self.seconds = seconds

    def __call__(self, track):
        from keras_tsr import audio, fma

        name = self.source.member(track.track_id)
        try:
            data = self.source.read_audio(track.track_id)
            feats, info = fma.track_segments(data, name, self.seconds)
        except (audio.AudioError, FileNotFoundError) as e:
            return [], str(e), None
        examples = [(f"{track.track_id:06d}_{i:02d}", {
            "log_mel": seg.astype(np.float16),
            "label": track.genre,
            "track_id": track.track_id,
            "segment": i,
            "artist_id": track.artist_id,
        }) for i, seg in enumerate(feats)]
        return examples, None, info


def _beam_examples(source, tracks, seconds):
    beam = tfds.core.lazy_imports.apache_beam
    process = _TrackProcessor(source, seconds)

    def examples(track):
        out, error, _ = process(track)
        if error is not None:
            log.warning("dropped track %06d: %s", track.track_id, error)
            beam.metrics.Metrics.counter("fma_small_logmel", "dropped_tracks").inc()
        return out

    return beam.Create(tracks) | beam.FlatMap(examples)
