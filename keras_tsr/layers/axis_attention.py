"""Axis attention: a weight per time step or frequency band (TF-Attention's two descriptors)."""

import keras
from keras import layers, ops

from keras_tsr.errors import ArgumentError

READINGS = ("channel", "axis")


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

    The paper's text ("pooled to a 1 x 1 x T descriptor", a convolution
    "with reduction ratio 16") reads two ways, and `reading` picks one:

    - "channel" (default): one weight per step *and channel*; the descriptor
      is (1, T, C) and the reduction by `reduction` runs over the C channels
      (32 -> 2 for the paper's filters), with `kernel_size` steps of context.
    - "axis": one weight per step, shared by all channels; the descriptor is
      the map averaged over the other axis and the channels, a length-T
      vector, and the two 1 x 1 convolutions reduce *along that axis*
      (T -> T / reduction -> T), as squeeze-and-excitation does over
      channels. It needs a fixed length along `axis`.

    Args:
        axis: "time" or "frequency": the axis that receives weights.
        reduction: reduction ratio of the first convolution.
        kernel_size: extent of both convolutions along `axis` ("channel" reading).
        reading: "channel" or "axis" (see above).

    Example:
    >>> tuple(AxisAttention("time")(np.ones((2, 16, 64, 32), "float32")).shape)
    (2, 16, 64, 32)
    """

    def __init__(self, axis="time", reduction=16, kernel_size=3, reading="channel", **kwargs):
        super().__init__(**kwargs)
        if axis not in ("time", "frequency"):
            raise ArgumentError(f'axis must be "time" or "frequency". Received: axis={axis!r}')
        if reduction < 1:
            raise ArgumentError(f"reduction must be >= 1. Received: reduction={reduction}")
        if reading not in READINGS:
            raise ArgumentError(f"reading must be one of {READINGS}. Received: reading={reading!r}")
        self.axis = axis
        self.reduction = reduction
        self.kernel_size = kernel_size
        self.reading = reading

    def build(self, input_shape):
        if self.reading == "axis":
            steps = input_shape[2 if self.axis == "time" else 1]
            if steps is None:
                raise ArgumentError(f'reading="axis" needs a fixed {self.axis} length. Received: input_shape={input_shape}')
            hidden = max(1, steps // self.reduction)
            self.reduce = layers.Dense(hidden, activation="relu", dtype=self.dtype_policy, name="reduce")
            self.expand = layers.Dense(steps, activation="sigmoid", dtype=self.dtype_policy, name="expand")
            self.reduce.build((input_shape[0], steps))
            self.expand.build((input_shape[0], hidden))
            self.built = True
            return
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

    def attention_weights(self, x):
        """The sigmoid weights this layer multiplies onto `x`, broadcastable to it:
        (batch, 1, T, C) or (batch, F, 1, C) with the "channel" reading, C = 1 with "axis"."""
        if self.reading == "axis":
            other = (1, 3) if self.axis == "time" else (2, 3)
            desc = ops.mean(x, axis=other)  # (batch, T) or (batch, F)
            weights = self.expand(self.reduce(desc))  # one weight per step, in (0, 1)
            shape = (-1, 1, weights.shape[-1], 1) if self.axis == "time" else (-1, weights.shape[-1], 1, 1)
            return ops.reshape(weights, shape)
        pool_axis = 1 if self.axis == "time" else 2
        desc = ops.mean(x, axis=pool_axis, keepdims=True)  # (batch, 1, T, C) or (batch, F, 1, C)
        return self.expand(self.reduce(desc))  # same shape, in (0, 1)

    def call(self, x):
        return x * self.attention_weights(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "reduction": self.reduction, "kernel_size": self.kernel_size,
                       "reading": self.reading})
        return config
