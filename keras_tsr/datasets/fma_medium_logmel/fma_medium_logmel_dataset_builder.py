"""fma_medium_logmel: FMA-medium's clips as log-mel for TS-Resformer.

What it shares with fma_small_logmel is keras_tsr.datasets.fma_builder.
"""

import tensorflow_datasets as tfds

from keras_tsr.data import fma
from keras_tsr.datasets.fma_builder import FmaLogmelBuilder


class Builder(FmaLogmelBuilder):
    """DatasetBuilder for fma_medium_logmel: 25,000 clips of 30 s, 16 unbalanced top genres."""

    SUBSET = "medium"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release (before: the medium_* configs of fma_small_logmel)."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = fma.download_instructions("medium", "22 GiB")
