"""`tfds build datasets/genre_folder_logmel` from the repository root: the package's builder, keras_tsr/datasets/genre_folder_logmel/."""

from keras_tsr.datasets.genre_folder_logmel import genre_folder_logmel_dataset_builder as _package


class Builder(_package.Builder, skip_registration=True):
    """The package's genre_folder_logmel builder; its README, citation and tags are read from the package's folder."""

    pkg_dir_path = _package.Builder._get_pkg_dir_path()
