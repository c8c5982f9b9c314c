"""keras-tsr's TFDS datasets: the builders (registered on import) and the tf.data pipeline that reads them.

    import keras_tsr.datasets                                # registers the three builders with TFDS
    tfds.builder("fma_small_logmel/12s", data_dir=...)
    tfds build fma_small_logmel --imports keras_tsr.datasets --manual_dir DIR

Each builder is laid out as TFDS lays out its own (`<name>/<name>_dataset_builder.py` with its class
`Builder`, README.md, CITATIONS.bib, TAGS.txt, dummy_data/ and a test); a builder's own
logic sits in its file; what all share is `logmel` (and `build_pool`), what the two FMA builders share
`fma_builder`.
The pipeline (`pipeline`) sits here beside the builders whose output it reads.
"""

from keras_tsr.datasets.fma_medium_logmel import fma_medium_logmel_dataset_builder as _fma_medium
from keras_tsr.datasets.fma_small_logmel import fma_small_logmel_dataset_builder as _fma_small
from keras_tsr.datasets.genre_folder_logmel import genre_folder_logmel_dataset_builder as _genre_folder

BUILDERS = {
    "fma_small_logmel": _fma_small.Builder,
    "fma_medium_logmel": _fma_medium.Builder,
    "genre_folder_logmel": _genre_folder.Builder,
}
