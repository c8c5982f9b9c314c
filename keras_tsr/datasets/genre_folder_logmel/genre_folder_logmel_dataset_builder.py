"""genre_folder_logmel: any folder of genre folders (GTZAN, your own collection) as log-mel for TS-Resformer.

What every log-mel builder shares is keras_tsr.datasets.logmel (features, front-end, writer); the scanning of the
folders and their splits is keras_tsr.data.folders; what is this builder's own is here.
"""

from __future__ import annotations

import dataclasses

import tensorflow_datasets as tfds

from keras_tsr import audio
from keras_tsr.data import folders
from keras_tsr.datasets.logmel import Item, LogMelBuilder, LogMelConfig

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
        LogMelConfig(name="clip_multilabel", segment_seconds=None, split_scheme="random", multilabel=True,
                     description="Whole-clip log-mel of a multi-label collection: each file's genres from "
                                 "labels.csv / labels.json in the manual dir (or its own genre tags) as multi-hot "
                                 "vectors; a seeded 8:1:1 split stratified by each file's first genre."),
        LogMelConfig(name="clip_multilabel_folds", segment_seconds=None, split_scheme="folds", multilabel=True,
                     description="As clip_multilabel, in ten stratified folds (fold0 ... fold9) for `tsr cv`."),
    ]


class _FileReader:
    def __call__(self, item):
        return item.extra_path, item.extra["file"]


@dataclasses.dataclass
class _FileItem(Item):
    extra_path: str = ""


class _GenreFolderBase(LogMelBuilder, skip_registration=True):
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
        cfg = self.builder_config
        if cfg.multilabel:
            return self._multilabel_items(dl_manager.manual_dir)
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

    def _multilabel_items(self, manual_dir):
        """A labelled collection (`keras_tsr.data.labels`): `label` is each file's first genre, `genres` and
        `genres_all` all of them (a flat vocabulary: no genre has a parent here)."""
        from keras_tsr.data import genres as genre_table
        from keras_tsr.data import labels

        folds = self.builder_config.split_scheme == "folds"
        need, purpose = (2, "ten folds") if folds else (3, "an 8:1:1 split")
        files, tags = labels.scan_labelled(manual_dir, need, purpose)
        vocabulary = sorted({g for gs in tags.values() for g in gs})
        self.info.features["label"].names = vocabulary
        self._vocabulary = [{"id": i + 1, "title": g, "parent": 0, "top_level": i + 1} for i, g in enumerate(vocabulary)]
        ids = {g: i + 1 for i, g in enumerate(vocabulary)}
        splits = folders.stratified_folds(files, self.builder_config.split_seed) if folds else \
            folders.stratified_split(files, self.builder_config.split_seed)
        folders.check_enough(files, splits, folders.unreadable(files), 1, purpose, manual_dir)

        def item(f):
            hot = genre_table.multi_hot([ids[g] for g in tags[f.relpath]], list(ids.values()))
            return _FileItem(f"{f.file_id:06d}", f.file_id, f.genre, {"file": f.relpath, "genres": hot,
                                                                     "genres_all": hot}, extra_path=f.path)

        return {name: [item(f) for f in fs] for name, fs in splits.items() if fs}

    def _reader(self, dl_manager):
        return _FileReader()



class Builder(_GenreFolderBase):
    """DatasetBuilder for genre_folder_logmel: one folder per genre in `manual_dir`, any audio inside."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Put one folder per genre in `manual_dir` (nested folders inside are fine):
      DIR/<genre>/<files>      any of mp3, wav, flac, ogg, opus, aiff, au, m4a, ...
    GTZAN works as downloaded: DIR/genres/<genre>/<genre>.000NN.au, or the Kaggle
    copy's DIR/genres_original/<genre>/<genre>.000NN.wav. For `clip_lists`, add
    train.txt, validation.txt (or valid.txt) and test.txt to DIR.
    Then: tfds build datasets/genre_folder_logmel --manual_dir DIR (from the repository root), or from
    any folder: tfds build genre_folder_logmel --imports keras_tsr.datasets --manual_dir DIR
    """
