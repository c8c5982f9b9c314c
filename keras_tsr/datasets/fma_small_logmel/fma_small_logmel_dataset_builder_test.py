"""TFDS harness test of fma_small_logmel on dummy_data (synthetic, FMA-shaped).

dummy_data/ was written by `tsr synth-fma --out dummy_data
--tracks-per-genre 3 --compact`: 3 good tracks per genre (one per official
split) and 4 broken tracks, described in dummy_data/fixture.json.
"""

import json
import pathlib

import pytest
import tensorflow_datasets as tfds

from keras_tsr.datasets import builder_testing

from . import fma_small_logmel_dataset_builder

pytestmark = pytest.mark.backend_independent

DUMMY = pathlib.Path(__file__).parent / "dummy_data"
FIXTURE = json.loads((DUMMY / "fixture.json").read_text())
BROKEN = {t["track_id"] for t in FIXTURE["tracks"] if t["broken"]}


class FmaSmallLogmelTest(builder_testing.BuilderTestCase):
    DATASET_CLASS = fma_small_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["12s"]
    # FMA's official split of the fixture: 8 good tracks a split (train also holds the 4 broken files, which are
    # dropped), 4 segments of 12 s each.
    SPLITS = {"train": 8 * 4, "validation": 8 * 4, "test": 8 * 4}
    SKIP_CHECKSUMS = True

    def test_the_fixture_is_what_the_counts_assume(self):
        good = [t for t in FIXTURE["tracks"] if not t["broken"]]
        self.assertEqual(len(good), 24)
        self.assertEqual({s: sum(t["split"] == s for t in good) for s in ("training", "validation", "test")},
                         {"training": 8, "validation": 8, "test": 8})


class FmaSmallLogmelClipPaperSplitTest(builder_testing.BuilderTestCase):
    DATASET_CLASS = fma_small_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["clip_paper_split"]
    # The paper's 8:1:1 rule on 28 tracks (4 genres of 4, 4 of 3): 12 / 8 / 8 tracks, one test and one validation
    # track a genre; the seeded draw puts 2 of the broken files in train and 2 in validation. One example a track.
    SPLITS = {"train": 10, "validation": 6, "test": 8}
    SKIP_CHECKSUMS = True


if __name__ == "__main__":
    tfds.testing.test_main()
