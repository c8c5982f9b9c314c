"""`tfds build datasets/fma_medium_logmel` from the repository root: the package's builder, keras_tsr/datasets/fma_medium_logmel/."""

from keras_tsr.datasets.fma_medium_logmel import fma_medium_logmel_dataset_builder as _package


class Builder(_package.Builder, skip_registration=True):
    """The package's fma_medium_logmel builder; its README, citation and tags are read from the package's folder."""

    pkg_dir_path = _package.Builder._get_pkg_dir_path()
