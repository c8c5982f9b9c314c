"""TFDS harness test of fma_small_logmel on dummy_data (synthetic, FMA-shaped).

dummy_data/ was written by `tsr synth-fma --out dummy_data
--tracks-per-genre 3 --compact`: 3 good tracks per genre (one per official
split) and 4 broken tracks, described in dummy_data/fixture.json.
"""

import json
import pathlib

import pytest
import tensorflow_datasets as tfds

from keras_tsr.data import fma

from . import fma_small_logmel_dataset_builder

pytestmark = pytest.mark.backend_independent

DUMMY = pathlib.Path(__file__).parent / "dummy_data"
FIXTURE = json.loads((DUMMY / "fixture.json").read_text())
BROKEN = {t["track_id"] for t in FIXTURE["tracks"] if t["broken"]}


def _expected(scheme, segments):
    tracks = fma.FmaSource(DUMMY, "small").tracks()
    splits = fma.official_splits(tracks) if scheme == "official" else fma.paper_splits(tracks, seed=42)
    return {name: segments * sum(t.track_id not in BROKEN for t in ts) for name, ts in splits.items()}


class FmaSmallLogmelTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = fma_small_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["12s"]
    SPLITS = {"train": 8 * 4, "validation": 8 * 4, "test": 8 * 4}  # 8 good tracks a split, 4 segments each
    SKIP_CHECKSUMS = True

    def test_expected_counts_follow_the_fixture(self):
        self.assertEqual(_expected("official", 4), self.SPLITS)


class FmaSmallLogmelClipPaperSplitTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = fma_small_logmel_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["clip_paper_split"]
    SPLITS = _expected("paper", 1)  # the clip level: one example a track
    SKIP_CHECKSUMS = True


if __name__ == "__main__":
    tfds.testing.test_main()
