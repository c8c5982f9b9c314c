"""Residual block with squeeze-and-excitation built from 1x1 convolutions."""

import keras
from keras import layers, ops

from keras_tsr.errors import ArgumentError
from keras_tsr.layers.norm import BN_EPSILON, BN_MOMENTUM


@keras.saving.register_keras_serializable(package="keras_tsr")
class SEResBlock(keras.layers.Layer):
    """The SE-Res block of TS-Resformer (Zhang 2025, section 3.2.3).

    conv3x3 (stride) -> BN -> ReLU -> conv3x3 -> BN -> SE -> + skip -> ReLU.
    Squeeze-and-excitation: global average pooling, 1x1 conv reducing the
    channels by `se_reduction`, ReLU, 1x1 conv, sigmoid, scale (1x1
    convolutions stand in for SE's fully connected layers). The skip joins
    after SE and carries a 1x1 convolution (with BN) where the shape changes.
    With `squeeze_excite=False` it is the plain residual block of
    Res-Transformer.

    Args:
        filters: output channels.
        strides: stride of the first convolution (and the skip), int or pair.
        squeeze_excite: whether the SE module is in the block.
        se_reduction: SE reduction ratio r.

    Example:
    >>> tuple(SEResBlock(64, strides=2)(np.zeros((2, 16, 64, 32), "float32")).shape)
    (2, 8, 32, 64)
    """

    def __init__(self, filters, strides=1, squeeze_excite=True, se_reduction=16, **kwargs):
        super().__init__(**kwargs)
        if filters < 1:
            raise ArgumentError(f"filters must be >= 1. Received: filters={filters}")
        self.filters = filters
        self.strides = tuple(strides) if isinstance(strides, (list, tuple)) else (strides, strides)
        self.squeeze_excite = squeeze_excite
        self.se_reduction = se_reduction
        kw = {"dtype": self.dtype_policy}
        self.conv1 = layers.Conv2D(filters, 3, strides=self.strides, padding="same", use_bias=False, name="conv1", **kw)
        self.norm1 = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="norm1", **kw)
        self.conv2 = layers.Conv2D(filters, 3, padding="same", use_bias=False, name="conv2", **kw)
        self.norm2 = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="norm2", **kw)
        if squeeze_excite:
            hidden = max(1, filters // se_reduction)
            self.se_reduce = layers.Conv2D(hidden, 1, activation="relu", name="se_reduce", **kw)
            self.se_expand = layers.Conv2D(filters, 1, activation="sigmoid", name="se_expand", **kw)
        self.skip_conv = None
        self.skip_norm = None

    def build(self, input_shape):
        b, h, w, c = input_shape
        self.conv1.build(input_shape)
        out_shape = self.compute_output_shape(input_shape)
        self.norm1.build(out_shape)
        self.conv2.build(out_shape)
        self.norm2.build(out_shape)
        if self.squeeze_excite:
            self.se_reduce.build((b, 1, 1, self.filters))
            self.se_expand.build((b, 1, 1, self.se_reduce.filters))
        if c != self.filters or self.strides != (1, 1):
            kw = {"dtype": self.dtype_policy}
            self.skip_conv = layers.Conv2D(self.filters, 1, strides=self.strides, use_bias=False, name="skip_conv", **kw)
            self.skip_norm = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="skip_norm", **kw)
            self.skip_conv.build(input_shape)
            self.skip_norm.build(out_shape)
        self.built = True

    def call(self, x, training=None):
        y = ops.relu(self.norm1(self.conv1(x), training=training))  # (batch, H', W', filters)
        y = self.norm2(self.conv2(y), training=training)
        if self.squeeze_excite:
            s = ops.mean(y, axis=(1, 2), keepdims=True)  # (batch, 1, 1, filters)
            y = y * self.se_expand(self.se_reduce(s))
        skip = x
        if self.skip_conv is not None:
            skip = self.skip_norm(self.skip_conv(x), training=training)
        return ops.relu(y + skip)

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        sh, sw = self.strides
        h = None if h is None else -(-h // sh)
        w = None if w is None else -(-w // sw)
        return (b, h, w, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "strides": self.strides,
            "squeeze_excite": self.squeeze_excite,
            "se_reduction": self.se_reduction,
        })
        return config
