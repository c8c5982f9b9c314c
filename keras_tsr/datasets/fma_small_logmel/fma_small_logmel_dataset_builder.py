"""fma_small_logmel: FMA-small's clips as log-mel for TS-Resformer.

What it shares with fma_medium_logmel is keras_tsr.datasets.fma_builder.
"""

import tensorflow_datasets as tfds

from keras_tsr.data import fma
from keras_tsr.datasets.fma_builder import FmaLogmelBuilder


class Builder(FmaLogmelBuilder):
    """DatasetBuilder for fma_small_logmel: 8,000 clips of 30 s, 8 balanced top genres."""

    SUBSET = "small"
    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "2.0.0": "Configs 12s, 12s_paper_split, clip, clip_paper_split; the front-end geometry in the metadata; "
                 "fma_medium moved to its own builder, fma_medium_logmel.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = fma.download_instructions("small", "7.2 GiB")
