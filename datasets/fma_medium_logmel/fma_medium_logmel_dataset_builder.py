"""fma_medium_logmel: FMA-medium's clips as log-mel for TS-Resformer (the shared code is keras_tsr.builders)."""

import tensorflow_datasets as tfds

from keras_tsr.builders import FmaLogmelBuilder


class Builder(FmaLogmelBuilder):
    """DatasetBuilder for fma_medium_logmel: 25,000 clips of 30 s, 16 unbalanced top genres."""

    SUBSET = "medium"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release (before: the medium_* configs of fma_small_logmel)."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Download from https://github.com/mdeff/fma and place in `manual_dir`:
      fma_medium.zip    (22 GiB)
      fma_metadata.zip  (342 MiB)
    or their extracted folders fma_medium/ (NNN/NNNNNN.mp3) and fma_metadata/
    (tracks.csv). Then: tfds build datasets/fma_medium_logmel --manual_dir DIR
    """
