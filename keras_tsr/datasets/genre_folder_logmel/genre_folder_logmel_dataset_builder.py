"""genre_folder_logmel: any folder of genre folders (GTZAN, your own collection) as log-mel for TS-Resformer.

The shared code is keras_tsr.datasets.logmel (front-end and writer) and keras_tsr.data.folders (scanning and splits).
"""

import tensorflow_datasets as tfds

from keras_tsr.datasets.logmel import GenreFolderBuilder


class Builder(GenreFolderBuilder):
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
