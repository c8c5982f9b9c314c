"""Public layers of keras-tsr."""

from keras_tsr.layers.log_mel import ClipLogMelSegments
from keras_tsr.layers.norm import BN_EPSILON, BN_MOMENTUM
from keras_tsr.layers.se_res_block import SEResBlock
from keras_tsr.layers.tf_attention import AxisAttention, TFAttention
from keras_tsr.layers.transformer_encoder import SinePositionEncoding, TransformerEncoder

__all__ = ["BN_EPSILON", "BN_MOMENTUM", "AxisAttention", "ClipLogMelSegments", "SEResBlock", "SinePositionEncoding", "TFAttention",
           "TransformerEncoder"]
