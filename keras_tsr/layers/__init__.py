"""Public layers of keras-tsr, one class a file."""

from keras_tsr.layers.axis_attention import AxisAttention
from keras_tsr.layers.log_mel import ClipLogMelSegments
from keras_tsr.layers.norm import BN_EPSILON, BN_MOMENTUM
from keras_tsr.layers.se_res_block import SEResBlock
from keras_tsr.layers.sine_position_encoding import SinePositionEncoding
from keras_tsr.layers.tf_attention import TFAttention
from keras_tsr.layers.transformer_encoder import TransformerEncoder

__all__ = ["BN_EPSILON", "BN_MOMENTUM", "AxisAttention", "ClipLogMelSegments", "SEResBlock", "SinePositionEncoding",
           "TFAttention", "TransformerEncoder"]
