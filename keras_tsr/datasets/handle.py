"""A built dataset opened once: `DatasetHandle` knows what training, evaluation, cross-validation and the
TF-free loader ask of a build, from (name/config, data_dir, genre subset, segment geometry).

    ds = DatasetHandle("fma_small_logmel/clip", data_dir, genres=["Rock", "Folk"], segment_seconds=3.0)
    ds.class_names, ds.label_map, ds.geometry, ds.clip_level   # what the build and the subset say
    ds.task, ds.target, ds.genre_vocabulary                    # a multi-label build: its genres and their tree
    ds.check()                                                 # a damaged build: one line, before any work
    ds.count_segments("train")                                 # the steps of an epoch
    ds.load_split("train", 32, shuffle=True, seed=0)           # batches, tf.data or Grain

The builder behind it is `source.builder`'s, opened once a process while the build's files stay the same.
"""

from __future__ import annotations

import dataclasses

from keras_tsr.datasets import pipeline, source, verify
from keras_tsr.errors import ArgumentError


@dataclasses.dataclass
class DatasetHandle:
    dataset: str  # "name/config"
    data_dir: str
    genres: list = dataclasses.field(default_factory=list)  # [] : every genre of the build
    segment_seconds: float | None = None  # clip-level builds: the segments cut at load time (default 12 s)
    overlap: float | None = None
    loader: str = "auto"  # "tf", "grain" or "auto" (keras_tsr.datasets.pipeline.choose_loader)

    def __post_init__(self):
        self.loader = pipeline.choose_loader(self.loader)
        self.info = source.builder(self.dataset, self.data_dir).info
        self.task = self.info.metadata.get("task") or "single_label"
        self.genre_vocabulary = self.info.metadata.get("genre_vocabulary") if self.multilabel else None
        if self.multilabel:  # one output a genre of the vocabulary (genres_all: a genre's parents are set too)
            if self.genres:
                raise ArgumentError(f"{self.dataset} is multi-label: --genres (a subset of the top genres) applies "
                                    f"to single-label builds; train on every genre of its vocabulary")
            self.class_names, self.label_map = [g["title"] for g in self.genre_vocabulary], None
        else:
            self.class_names, self.label_map = pipeline.genre_subset(self.info.features["label"].names, self.genres)
        self.geometry = source.dataset_geometry(self.info, self.dataset, self.segment_seconds, self.overlap)
        self.clip_level = source.is_clip_level(self.info)

    @property
    def multilabel(self) -> bool:
        return self.task == "multilabel"

    @property
    def target(self) -> str:
        """The feature training learns: "label" (genre_top), or a multi-label build's "genres_all"."""
        return "genres_all" if self.multilabel else "label"

    def check(self):
        """Raises DatasetDamagedError (one line naming the file and the rebuild command) for a damaged build."""
        verify.check(self.dataset, self.data_dir)

    def count_segments(self, split) -> int:
        """Segments one pass over `split` yields, after the genre subset and the cutting."""
        return pipeline.count_segments(self.dataset, split, self.data_dir, self.label_map, self.geometry,
                                       loader=self.loader)

    MAX_POSITIVE_WEIGHT = 10.0

    def positive_weights(self, split) -> list:
        """A multi-label build's weight for each genre's positives in `split` (a split name or names joined by
        "+"): sqrt(negatives / positives) over its listed tracks, between 1 and MAX_POSITIVE_WEIGHT."""
        import numpy as np

        counts, tracks = self.info.metadata.get("genre_counts"), self.info.metadata.get("tracks_per_split") or {}
        names = str(split).split("+")
        if not counts or any(n not in counts for n in names):
            raise ArgumentError(f"{self.dataset} records no genre counts for {split} (built by an earlier keras-tsr): "
                                f"rebuild it, or train with --class-weight none")
        positives = np.sum([counts[n] for n in names], axis=0).astype(float)
        total = float(sum(tracks[n] for n in names))
        weights = np.sqrt((total - positives) / np.maximum(positives, 1.0))
        return np.clip(weights, 1.0, self.MAX_POSITIVE_WEIGHT).round(4).tolist()

    def top_genres(self, split) -> dict:
        """track id -> its genre_top (title) in `split`: what a multi-label model's top-level accuracy is
        scored against."""
        from keras_tsr.datasets import records

        names = self.info.features["label"].names
        if records.random_access(self.info):
            rows = records.source(self.dataset, split, self.data_dir)
        else:
            import tensorflow_datasets as tfds

            rows = records.tf_examples(self.dataset, split, self.data_dir,
                                       decoders={"log_mel": tfds.decode.SkipDecoding()}).as_numpy_iterator()
        return {int(ex["track_id"]): names[int(ex["label"])] for ex in rows}

    def load_split(self, split, batch_size, **kwargs):
        """`pipeline.load_split` of `split` with this handle's subset, geometry and loader."""
        return pipeline.load_split(self.dataset, split, self.data_dir, batch_size, len(self.class_names),
                                   label_map=self.label_map, geometry=self.geometry, loader=self.loader,
                                   target=self.target, **kwargs)
