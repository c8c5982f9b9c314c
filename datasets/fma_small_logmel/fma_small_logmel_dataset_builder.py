"""`tfds build datasets/fma_small_logmel` from the repository root: the package's builder, keras_tsr/datasets/fma_small_logmel/."""

from keras_tsr.datasets.fma_small_logmel import fma_small_logmel_dataset_builder as _package


class Builder(_package.Builder, skip_registration=True):
    """The package's fma_small_logmel builder; its README, citation and tags are read from the package's folder."""

    pkg_dir_path = _package.Builder._get_pkg_dir_path()
