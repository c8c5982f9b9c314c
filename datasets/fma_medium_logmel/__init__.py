"""fma_medium_logmel: a thin folder so that `tfds build datasets/fma_medium_logmel` works from the repository root.

The builder is keras_tsr/datasets/fma_medium_logmel/ (registered by `import keras_tsr.datasets`).
"""
