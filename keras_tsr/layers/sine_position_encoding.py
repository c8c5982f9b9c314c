"""Sinusoidal positional encoding (Vaswani et al. 2017)."""

import math

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="keras_tsr")
class SinePositionEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position encoding of Vaswani et al. (2017).

    Args:
        max_length: longest sequence supported.

    Example:
    >>> tuple(SinePositionEncoding()(np.zeros((2, 128, 64), "float32")).shape)
    (2, 128, 64)
    """

    def __init__(self, max_length=4096, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def call(self, x):
        length, dim = ops.shape(x)[1], x.shape[-1]
        pos = np.arange(self.max_length, dtype="float32")[:, None]
        div = np.exp(np.arange(0, dim, 2, dtype="float32") * (-math.log(10000.0) / dim))
        table = np.zeros((self.max_length, dim), "float32")
        table[:, 0::2] = np.sin(pos * div)
        table[:, 1::2] = np.cos(pos * div)[:, : dim // 2]
        enc = ops.cast(ops.convert_to_tensor(table)[:length], x.dtype)
        return x + enc[None]  # (batch, length, dim)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_length": self.max_length})
        return config
