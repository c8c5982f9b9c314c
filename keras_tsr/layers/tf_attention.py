"""TF-Attention: multi-scale time/frequency convolutions with axis attention."""

import keras
from keras import layers, ops

from keras_tsr.layers.norm import BN_EPSILON, BN_MOMENTUM


@keras.saving.register_keras_serializable(package="keras_tsr")
class AxisAttention(keras.layers.Layer):
    """Sigmoid attention along one axis of a (batch, freq, time, channels) map.

    Time attention (`axis="time"`) averages the map over frequency to one
    descriptor per time step, passes it through a convolution that reduces
    the channels by `reduction`, ReLU, a convolution back to the channels and
    a sigmoid, and multiplies the weights back onto the map. Frequency
    attention does the same along the other axis. The two convolutions span
    `kernel_size` neighbouring steps, so a step's weight also reads its
    neighbours (the paper's "aggregating the front and back frames"). Sigmoid,
    not softmax, keeps the weights from collapsing onto a few frames.

    Args:
        axis: "time" or "frequency": the axis that receives weights.
        reduction: channel reduction ratio of the first convolution.
        kernel_size: extent of both convolutions along `axis`.

    Example:
    >>> AxisAttention("time")(np.ones((2, 128, 512, 32), "float32")).shape
    (2, 128, 512, 32)
    """

    def __init__(self, axis="time", reduction=16, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        if axis not in ("time", "frequency"):
            raise ValueError(f'axis must be "time" or "frequency". Received: axis={axis!r}')
        if reduction < 1:
            raise ValueError(f"reduction must be >= 1. Received: reduction={reduction}")
        self.axis = axis
        self.reduction = reduction
        self.kernel_size = kernel_size

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        kernel = (1, self.kernel_size) if self.axis == "time" else (self.kernel_size, 1)
        self.reduce = layers.Conv2D(hidden, kernel, padding="same", activation="relu", dtype=self.dtype_policy,
                                    name="reduce")
        self.expand = layers.Conv2D(channels, kernel, padding="same", activation="sigmoid",
                                    dtype=self.dtype_policy, name="expand")
        pooled = list(input_shape)
        pooled[1 if self.axis == "time" else 2] = 1
        self.reduce.build(tuple(pooled))
        self.expand.build(tuple(pooled[:-1]) + (hidden,))
        self.built = True

    def call(self, x):
        pool_axis = 1 if self.axis == "time" else 2
        desc = ops.mean(x, axis=pool_axis, keepdims=True)  # (batch, 1, T, C) or (batch, F, 1, C)
        weights = self.expand(self.reduce(desc))  # same shape, in (0, 1)
        return x * weights

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "reduction": self.reduction, "kernel_size": self.kernel_size})
        return config


@keras.saving.register_keras_serializable(package="keras_tsr")
class TFAttention(keras.layers.Layer):
    """The TF-Attention module of TS-Resformer (Zhang 2025, section 3.2.2).

    Conv1 is two parallel convolutions from the 1-channel log-mel: a
    frequency filter of `freq_kernel` (M x 2: M bands, 2 frames) and a time
    filter of `time_kernel` (2 x N). Each is followed by batch norm and ReLU;
    the frequency map gets frequency attention, the time map time attention,
    and the two weighted maps are concatenated along channels.

    Args:
        filters: output channels of each Conv1 filter (the paper: 32).
        freq_kernel: (height, width) of the frequency filter (paper: (6, 2)).
        time_kernel: (height, width) of the time filter (paper: (2, 10)).
        reduction: channel reduction of the attention convolutions (16).
        attention_kernel_size: extent of the attention convolutions.

    Example:
    >>> TFAttention()(np.zeros((2, 128, 512, 1), "float32")).shape
    (2, 128, 512, 64)

    Reference:
        Zhang, "TS-Resformer: a model based on multimodal fusion for the
        classification of music signals", Front. Neurorobot. 2025.
    """

    def __init__(self, filters=32, freq_kernel=(6, 2), time_kernel=(2, 10), reduction=16, attention_kernel_size=3,
                 **kwargs):
        super().__init__(**kwargs)
        if filters < 1:
            raise ValueError(f"filters must be >= 1. Received: filters={filters}")
        self.filters = filters
        self.freq_kernel = tuple(freq_kernel)
        self.time_kernel = tuple(time_kernel)
        self.reduction = reduction
        self.attention_kernel_size = attention_kernel_size
        kw = {"dtype": self.dtype_policy}
        self.freq_conv = layers.Conv2D(filters, self.freq_kernel, padding="same", use_bias=False, name="freq_conv", **kw)
        self.time_conv = layers.Conv2D(filters, self.time_kernel, padding="same", use_bias=False, name="time_conv", **kw)
        self.freq_norm = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="freq_norm", **kw)
        self.time_norm = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="time_norm", **kw)
        self.freq_attention = AxisAttention("frequency", reduction, attention_kernel_size, name="freq_attention", **kw)
        self.time_attention = AxisAttention("time", reduction, attention_kernel_size, name="time_attention", **kw)

    def build(self, input_shape):
        conv_shape = tuple(input_shape[:-1]) + (self.filters,)
        for conv, norm, att in ((self.freq_conv, self.freq_norm, self.freq_attention),
                                (self.time_conv, self.time_norm, self.time_attention)):
            conv.build(input_shape)
            norm.build(conv_shape)
            att.build(conv_shape)
        self.built = True

    def call(self, x, training=None):
        f = ops.relu(self.freq_norm(self.freq_conv(x), training=training))  # (batch, F, T, filters)
        t = ops.relu(self.time_norm(self.time_conv(x), training=training))  # (batch, F, T, filters)
        return ops.concatenate([self.freq_attention(f), self.time_attention(t)], axis=-1)  # (batch, F, T, 2 filters)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2 * self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "freq_kernel": self.freq_kernel,
            "time_kernel": self.time_kernel,
            "reduction": self.reduction,
            "attention_kernel_size": self.attention_kernel_size,
        })
        return config
