"""fma_small_logmel: FMA-small's clips as log-mel for TS-Resformer (the shared code is keras_tsr.builders)."""

import tensorflow_datasets as tfds

from keras_tsr.builders import FmaLogmelBuilder


class Builder(FmaLogmelBuilder):
    """DatasetBuilder for fma_small_logmel: 8,000 clips of 30 s, 8 balanced top genres."""

    SUBSET = "small"
    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "2.0.0": "Configs 12s, 12s_paper_split, clip, clip_paper_split; the front-end geometry in the metadata; "
                 "fma_medium moved to its own builder, fma_medium_logmel.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Download from https://github.com/mdeff/fma and place in `manual_dir`:
      fma_small.zip     (7.2 GiB)
      fma_metadata.zip  (342 MiB)
    or their extracted folders fma_small/ (NNN/NNNNNN.mp3) and fma_metadata/
    (tracks.csv). Then: tfds build datasets/fma_small_logmel --manual_dir DIR
    """
