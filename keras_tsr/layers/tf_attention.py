"""TF-Attention: multi-scale time/frequency convolutions with axis attention."""

import keras
from keras import layers, ops

from keras_tsr.errors import ArgumentError
from keras_tsr.layers.axis_attention import AxisAttention
from keras_tsr.layers.norm import BN_EPSILON, BN_MOMENTUM

CONV1 = ("separate", "fused")


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
        attention_reading: "channel" or "axis": which reading of the paper's
            attention descriptor (see `AxisAttention`).
        conv1: how Conv1 is computed, not what: "separate" (two convolutions)
            or "fused" (one convolution of 2 x `filters` outputs over the
            union of the two windows, each filter's taps placed where "same"
            padding puts them and zeros elsewhere: one read of the input
            and one kernel launch, for accelerators where the step is
            memory-bound). The weights are the same two kernels either way,
            so checkpoints load in both; the outputs agree within float error
            (tests/layers_test.py).

    Example:
    >>> tuple(TFAttention()(np.zeros((2, 32, 64, 1), "float32")).shape)
    (2, 32, 64, 64)

    Reference:
        Zhang, "TS-Resformer: a model based on multimodal fusion for the
        classification of music signals", Front. Neurorobot. 2025.
    """

    def __init__(self, filters=32, freq_kernel=(6, 2), time_kernel=(2, 10), reduction=16, attention_kernel_size=3,
                 attention_reading="channel", conv1="separate", **kwargs):
        super().__init__(**kwargs)
        if filters < 1:
            raise ArgumentError(f"filters must be >= 1. Received: filters={filters}")
        if conv1 not in CONV1:
            raise ArgumentError(f"conv1 must be one of {CONV1}. Received: conv1={conv1!r}")
        self.conv1 = conv1
        self.filters = filters
        self.freq_kernel = tuple(freq_kernel)
        self.time_kernel = tuple(time_kernel)
        self.reduction = reduction
        self.attention_kernel_size = attention_kernel_size
        self.attention_reading = attention_reading
        kw = {"dtype": self.dtype_policy}
        self.freq_conv = layers.Conv2D(filters, self.freq_kernel, padding="same", use_bias=False, name="freq_conv", **kw)
        self.time_conv = layers.Conv2D(filters, self.time_kernel, padding="same", use_bias=False, name="time_conv", **kw)
        self.freq_norm = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="freq_norm", **kw)
        self.time_norm = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="time_norm", **kw)
        self.freq_attention = AxisAttention("frequency", reduction, attention_kernel_size, attention_reading,
                                            name="freq_attention", **kw)
        self.time_attention = AxisAttention("time", reduction, attention_kernel_size, attention_reading,
                                            name="time_attention", **kw)

    def build(self, input_shape):
        conv_shape = tuple(input_shape[:-1]) + (self.filters,)
        for conv, norm, att in ((self.freq_conv, self.freq_norm, self.freq_attention),
                                (self.time_conv, self.time_norm, self.time_attention)):
            conv.build(input_shape)
            norm.build(conv_shape)
            att.build(conv_shape)
        self.built = True

    def _maps(self, x, training=None):
        if self.conv1 == "fused":
            both = ops.conv(x, self._fused_kernel(), padding="same")  # (batch, F, T, 2 filters)
            f, t = both[..., : self.filters], both[..., self.filters :]
        else:
            f, t = self.freq_conv(x), self.time_conv(x)
        f = ops.relu(self.freq_norm(f, training=training))  # (batch, F, T, filters)
        t = ops.relu(self.time_norm(t, training=training))  # (batch, F, T, filters)
        return f, t

    def _fused_kernel(self):
        """Both Conv1 kernels in one (H, W, 1, 2 filters) kernel over the union of their windows. "same" padding
        puts (k - 1) // 2 rows (columns) of a size-k kernel before the output position, so each kernel sits at
        the offset that keeps its taps on the same input samples."""
        height = max(self.freq_kernel[0], self.time_kernel[0])
        width = max(self.freq_kernel[1], self.time_kernel[1])

        def place(kernel, h, w):
            top = (height - 1) // 2 - (h - 1) // 2
            left = (width - 1) // 2 - (w - 1) // 2
            return ops.pad(kernel, [[top, height - h - top], [left, width - w - left], [0, 0], [0, 0]])

        return ops.concatenate([place(self.freq_conv.kernel, *self.freq_kernel),
                                place(self.time_conv.kernel, *self.time_kernel)], axis=-1)

    def call(self, x, training=None):
        f, t = self._maps(x, training)
        return ops.concatenate([self.freq_attention(f), self.time_attention(t)], axis=-1)  # (batch, F, T, 2 filters)

    def attention_weights(self, x):
        """(frequency weights (batch, F), time weights (batch, T)): what the two attentions weight, averaged
        over channels (inference mode)."""
        f, t = self._maps(x, training=False)
        fw = ops.mean(self.freq_attention.attention_weights(f), axis=(2, 3))  # (batch, F)
        tw = ops.mean(self.time_attention.attention_weights(t), axis=(1, 3))  # (batch, T)
        return fw, tw

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
            "attention_reading": self.attention_reading,
            "conv1": self.conv1,
        })
        return config
