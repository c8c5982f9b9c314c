"""TFDS harness test of genre_folder_logmel on dummy_data: a GTZAN-shaped folder of synthetic clips.

dummy_data/ was written by `keras_tsr.data.synth_folders.write_genre_folder(DIR, per_genre=5, seconds=(1.5, 2.5),
layout="gtzan", seed=1)`: genres/<genre>/<genre>.000NN.au (and one .wav a genre), 22.05 kHz mono, plus one
file that does not decode.
"""

import pathlib

import pytest
import tensorflow_datasets as tfds

from keras_tsr.datasets import builder_testing

from . import genre_folder_logmel_dataset_builder

pytestmark = pytest.mark.backend_independent

DUMMY = pathlib.Path(__file__).parent / "dummy_data"


class GenreFolderLogmelTest(builder_testing.BuilderTestCase):
    DATASET_CLASS = genre_folder_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["clip"]
    # 8:1:1 by genre of 6 folk (one does not decode), 5 hiphop and 5 rock files: one validation and one test file a
    # genre; the broken folk file falls in train and is dropped.
    SPLITS = {"train": 9, "validation": 3, "test": 3}
    SKIP_CHECKSUMS = True


class GenreFolderLogmelFoldsTest(builder_testing.BuilderTestCase):
    DATASET_CLASS = genre_folder_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["clip_folds"]
    # 16 files dealt into ten folds genre by genre: six folds of two, four of one; the broken file is in fold2.
    SPLITS = {"fold0": 2, "fold1": 2, "fold2": 1, "fold3": 2, "fold4": 2, "fold5": 2, "fold6": 1, "fold7": 1,
              "fold8": 1, "fold9": 1}
    SKIP_CHECKSUMS = True


if __name__ == "__main__":
    tfds.testing.test_main()
