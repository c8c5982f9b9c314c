"""TFDS harness test of genre_folder_logmel on dummy_data: a GTZAN-shaped folder of synthetic clips.

dummy_data/ was written by `keras_tsr.data.synth.write_genre_folder(DIR, per_genre=5, seconds=(1.5, 2.5),
layout="gtzan", seed=1)`: genres/<genre>/<genre>.000NN.au (and one .wav a genre), 22.05 kHz mono, plus one
file that does not decode.
"""

import pathlib

import pytest
import tensorflow_datasets as tfds

from keras_tsr.data import folders

from . import genre_folder_logmel_dataset_builder

pytestmark = pytest.mark.backend_independent

DUMMY = pathlib.Path(__file__).parent / "dummy_data"
CORRUPT = "folk.00005.wav"


def _expected(split_fn):
    splits = split_fn(folders.scan(DUMMY))
    return {k: sum(not f.relpath.endswith(CORRUPT) for f in v) for k, v in splits.items()}


class GenreFolderLogmelTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = genre_folder_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["clip"]
    SPLITS = _expected(folders.stratified_split)
    SKIP_CHECKSUMS = True

    def test_every_good_file_is_kept(self):
        self.assertEqual(sum(self.SPLITS.values()), 15)


class GenreFolderLogmelFoldsTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = genre_folder_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["clip_folds"]
    SPLITS = {k: v for k, v in _expected(folders.stratified_folds).items() if v}
    SKIP_CHECKSUMS = True


if __name__ == "__main__":
    tfds.testing.test_main()
