"""genre_folder_logmel: a thin folder so that `tfds build datasets/genre_folder_logmel` works from the repository root.

The builder is keras_tsr/datasets/genre_folder_logmel/ (registered by `import keras_tsr.datasets`).
"""
