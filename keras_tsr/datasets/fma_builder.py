"""What the two FMA builders (fma_small_logmel, fma_medium_logmel) share: configurations, items and splits.

Each builder's folder sets only its subset, version and download text; the
reading of FMA's files and metadata is `keras_tsr.data.fma`.
"""

from __future__ import annotations

import numpy as np

from keras_tsr.data import fma
from keras_tsr.data import genres as genre_table
from keras_tsr.datasets.logmel import Item, LogMelBuilder, LogMelConfig
from keras_tsr.errors import ArgumentError


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
        LogMelConfig(name="clip_multilabel", segment_seconds=None, split_scheme="official", multilabel=True,
                     description=f"Whole-clip log-mel with every genre of a track: `genres` (its own) and "
                                 f"`genres_all` (with their ancestors in genres.csv) as multi-hot vectors over the "
                                 f"subset's genres (info.metadata['genre_vocabulary']), beside `label` (genre_top). "
                                 f"{official}."),
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
        return fma.genre_names(self.SUBSET)

    def _extra_features(self):
        return {"artist_id": np.int32}

    def _recorded_metadata(self):
        # cut_segments keeps at most a nominal 30 s clip's segments, as the segment configurations do
        return {**super()._recorded_metadata(), "nominal_seconds": fma.NOMINAL_SECONDS}

    def _min_samples(self):
        seconds = self.builder_config.segment_seconds
        # The clip level must give every segment of a 30 s clip at every slice length it may be cut to.
        lengths = fma.SLICE_SECONDS if seconds is None else (seconds,)
        return max(fma.min_samples(s) for s in lengths)

    def _max_segments(self):
        seconds = self.builder_config.segment_seconds
        return None if seconds is None else fma.segments_per_clip(seconds)

    def _items(self, dl_manager):
        cfg = self.builder_config
        self._source = fma.FmaSource(dl_manager.manual_dir, self.SUBSET)  # a clear ManualDirError if files are missing
        genres = set(self._class_names())
        tracks = [t for t in self._source.tracks() if t.genre in genres]
        if not tracks:
            raise ArgumentError(f"tracks.csv lists no {self.SUBSET} tracks with a top genre")
        splits = fma.official_splits(tracks) if cfg.split_scheme == "official" else fma.paper_splits(
            tracks, cfg.split_seed)
        labels = self._genre_vectors(tracks) if cfg.multilabel else {}
        return {name: [Item(f"{t.track_id:06d}", t.track_id, t.genre, {"artist_id": t.artist_id,
                                                                       **labels.get(t.track_id, {})}) for t in ts]
                for name, ts in splits.items()}

    def _genre_vectors(self, tracks):
        """track id -> its `genres` and `genres_all` multi-hot over the genres present in the subset (their
        `genres_all`, in id order); the vocabulary, with titles and parents from genres.csv, goes to the info."""
        tree = genre_table.GenreTree.from_csv(self._source.read_metadata_file("genres.csv"))
        own = {t.track_id: list(t.genres) or [self._top_ids()[t.genre]] for t in tracks}
        every = {t.track_id: list(t.genres_all) or tree.expand(own[t.track_id]) for t in tracks}
        vocabulary = sorted({g for ids in every.values() for g in ids})
        self._vocabulary = tree.describe(vocabulary)
        return {tid: {"genres": genre_table.multi_hot(own[tid], vocabulary),
                      "genres_all": genre_table.multi_hot(every[tid], vocabulary)} for tid in own}

    def _top_ids(self):
        return {title: gid for gid, title in fma.SUBSET_GENRES[self.SUBSET]}

    def _reader(self, dl_manager):
        return _FmaReader(self._source)
