"""fma_small_logmel: a thin folder so that `tfds build datasets/fma_small_logmel` works from the repository root.

The builder is keras_tsr/datasets/fma_small_logmel/ (registered by `import keras_tsr.datasets`).
"""
