"""One post-norm Transformer encoder layer."""

import keras
from keras import layers

from keras_tsr.errors import ArgumentError


@keras.saving.register_keras_serializable(package="keras_tsr")
class TransformerEncoder(keras.layers.Layer):
    """One post-norm Transformer encoder layer (Vaswani et al. 2017).

    Multi-head self-attention and a two-layer ReLU feed-forward network, each
    with dropout, a residual connection and layer normalisation. The paper's
    settings: 4 heads, feed-forward 512, dropout 0.4.

    Args:
        num_heads: attention heads; must divide the model dimension.
        intermediate_dim: hidden size of the feed-forward network.
        dropout: dropout rate on attention weights and both residual paths.
        layer_norm_epsilon: epsilon of the layer normalisations.

    Example:
    >>> tuple(TransformerEncoder(4, 512)(np.zeros((2, 32, 128), "float32")).shape)
    (2, 32, 128)
    """

    def __init__(self, num_heads=4, intermediate_dim=512, dropout=0.4, layer_norm_epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if num_heads < 1:
            raise ArgumentError(f"num_heads must be >= 1. Received: num_heads={num_heads}")
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ArgumentError(
                f"The model dimension must be divisible by num_heads. Received: dim={dim}, num_heads={self.num_heads}"
            )
        kw = {"dtype": self.dtype_policy}
        self.attention = layers.MultiHeadAttention(self.num_heads, dim // self.num_heads, dropout=self.dropout,
                                                   name="attention", **kw)
        self.attention.build(input_shape, input_shape)
        self.attention_dropout = layers.Dropout(self.dropout, **kw)
        self.attention_norm = layers.LayerNormalization(epsilon=self.layer_norm_epsilon, name="attention_norm", **kw)
        self.attention_norm.build(input_shape)
        self.ffn_in = layers.Dense(self.intermediate_dim, activation="relu", name="ffn_in", **kw)
        self.ffn_in.build(input_shape)
        self.ffn_out = layers.Dense(dim, name="ffn_out", **kw)
        self.ffn_out.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))
        self.ffn_dropout = layers.Dropout(self.dropout, **kw)
        self.ffn_norm = layers.LayerNormalization(epsilon=self.layer_norm_epsilon, name="ffn_norm", **kw)
        self.ffn_norm.build(input_shape)
        self.built = True

    def call(self, x, training=None):
        a = self.attention(x, x, training=training)  # (batch, length, dim)
        x = self.attention_norm(x + self.attention_dropout(a, training=training))
        f = self.ffn_out(self.ffn_in(x))
        return self.ffn_norm(x + self.ffn_dropout(f, training=training))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        })
        return config
