"""The TS-Resformer family of backbones: one class, the paper's variants as arguments."""

import keras
from keras import layers

from keras_tsr import audio
from keras_tsr.errors import ArgumentError
from keras_tsr.layers import BN_EPSILON, BN_MOMENTUM, SEResBlock, SinePositionEncoding, TFAttention, TransformerEncoder
from keras_tsr.models.architectures import get_architecture

TEMPORAL_KINDS = ("transformer", "lstm", "gru", "bigru", None)
FUSIONS = ("parallel", "serial")


@keras.saving.register_keras_serializable(package="keras_tsr")
class TSResformerBackbone(keras.Model):
    """Spectral (SE-ResNet) and temporal (Transformer/RNN) branches over a log-mel.

    Input: log-mel segments (batch, num_mels, num_frames) in dB, as made by
    `keras_tsr.audio.clip_features` (values in [-80, 0]); they are rescaled to
    [-1, 1] first. Output: a feature vector per segment.

    Spectral branch: TF-Attention (or, with `tf_attention=False`, a plain
    3x3 convolution stem with as many channels), max-pooling by `stem_pool`,
    then one SE-Res block per entry of `block_widths`, each halving both axes,
    and global average pooling. Temporal branch: the log-mel read as a
    sequence of frames, max-pooled over `temporal_pool` frames, projected to
    `model_dim` if that differs from `num_mels`, plus a sinusoidal position
    encoding, then `num_transformer_layers` encoder layers and mean pooling
    over time (or an LSTM / GRU / bidirectional GRU, last state). With
    `fusion="parallel"` the two vectors are concatenated; with
    `fusion="serial"` the temporal module reads the spectral branch's last
    feature map as a sequence over its time axis instead.

    The paper leaves the residual stage unspecified; the defaults (four
    blocks of 64, 128, 128, 256 channels after a 2x2 pool) keep the model
    near 2 M parameters and 1.5 GFLOPs per segment, trainable at batch 32
    on one GPU; `temporal_pool=4` keeps self-attention over 128 steps of a
    12 s segment (each ~94 ms) instead of 512, as in the parallel
    CNN-Transformer designs the paper builds on.

    Args:
        num_mels: mel bands of the input.
        num_frames: frames of the input (512 for 12 s; None for any length).
        spectral: whether the spectral branch is present.
        tf_attention: TF-Attention module (True) or a plain conv stem (False).
        squeeze_excite: SE inside the residual blocks.
        tf_filters: channels of each Conv1 filter of TF-Attention.
        freq_kernel: frequency filter shape (M x 2), paper (6, 2).
        time_kernel: time filter shape (2 x N), paper (2, 10).
        attention_reduction: reduction ratio of the TF attention convolutions.
        attention_reading: "channel" (a weight per step and channel, reduced
            over channels) or "axis" (one weight per step, reduced along the
            axis): the two readings of the paper's attention descriptor, see
            `keras_tsr.layers.AxisAttention`.
        tf_conv1: how TF-Attention's Conv1 is computed: "separate" or "fused"
            (one convolution; the same weights and, within float error, the
            same outputs: see `keras_tsr.layers.TFAttention`).
        stem_pool: max-pool after the stem, (freq, time).
        block_widths: channels of the residual blocks, one block each.
        se_reduction: SE reduction ratio.
        temporal: "transformer", "lstm", "gru", "bigru" or None.
        num_transformer_layers: encoder layers (paper: 4).
        num_heads: attention heads (paper: 4).
        intermediate_dim: feed-forward size (paper: 512).
        dropout: Transformer dropout (paper: 0.4).
        temporal_pool: frames max-pooled into one step before the temporal
            module (parallel fusion only).
        model_dim: width of the temporal module's input; None = num_mels.
        rnn_units: units of the recurrent variants.
        fusion: "parallel" (TS-Resformer) or "serial".

    Example:
    >>> from keras_tsr.models import architectures
    >>> backbone = TSResformerBackbone(**architectures.ARCHITECTURES["debug"]["backbone"])
    >>> tuple(backbone(np.zeros((2, 128, 512), "float32")).shape)
    (2, 32)
    """

    def __init__(
        self,
        num_mels=audio.N_MELS,
        num_frames=512,
        spectral=True,
        tf_attention=True,
        squeeze_excite=True,
        tf_filters=32,
        freq_kernel=(6, 2),
        time_kernel=(2, 10),
        attention_reduction=16,
        attention_reading="channel",
        tf_conv1="separate",
        stem_pool=(2, 2),
        block_widths=(64, 128, 128, 256),
        se_reduction=16,
        temporal="transformer",
        num_transformer_layers=4,
        num_heads=4,
        intermediate_dim=512,
        dropout=0.4,
        temporal_pool=4,
        model_dim=None,
        rnn_units=128,
        fusion="parallel",
        **kwargs,
    ):
        args = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")}
        for k in ("freq_kernel", "time_kernel", "stem_pool", "block_widths"):
            args[k] = tuple(args[k])
        _check_args(args)
        dtype = kwargs.pop("dtype", None)

        inputs = keras.Input(shape=(num_mels, num_frames), name="log_mel")
        # dB [-80, 0] -> [-1, 1] in float32 under any mixed policy: the front-end is float32 to the model's input
        x = layers.Rescaling(1.0 / 40.0, offset=1.0, dtype="float32", name="rescale")(inputs)
        features = []
        spec_map = _spectral_branch(x, args, dtype) if spectral else None  # (batch, F', T', C)
        if spectral and fusion == "parallel":
            features.append(layers.GlobalAveragePooling2D(dtype=dtype, name="spectral_pool")(spec_map))
        if temporal is not None:
            features.append(_temporal_branch(x, spec_map, args, dtype))
        outputs = features[0] if len(features) == 1 else layers.Concatenate(dtype=dtype, name="fusion")(features)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config: one attribute per constructor argument ===
        for name, value in args.items():
            setattr(self, name, value)

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in backbone_arg_names()})
        return config

    @classmethod
    def from_preset(cls, preset, **overrides):
        """The backbone of a named preset (`keras_tsr.models.architectures.ARCHITECTURES`); `overrides` replace its arguments.

        Example:
        >>> TSResformerBackbone.from_preset("debug", num_frames=256).input_shape
        (None, 128, 256)
        """
        return cls(**backbone_args(preset, **overrides), name=f"{preset}_backbone")


def _check_args(a):
    if a["temporal"] not in TEMPORAL_KINDS:
        raise ArgumentError(f"temporal must be one of {TEMPORAL_KINDS}. Received: temporal={a['temporal']!r}")
    if a["fusion"] not in FUSIONS:
        raise ArgumentError(f"fusion must be one of {FUSIONS}. Received: fusion={a['fusion']!r}")
    if not a["spectral"] and a["temporal"] is None:
        raise ArgumentError("At least one branch is needed. Received: spectral=False, temporal=None")
    if a["fusion"] == "serial" and not (a["spectral"] and a["temporal"]):
        raise ArgumentError(f"fusion='serial' needs both branches. Received: spectral={a['spectral']}, "
                         f"temporal={a['temporal']!r}")
    if a["temporal"] == "transformer" and a["num_transformer_layers"] < 1:
        raise ArgumentError(f"num_transformer_layers must be >= 1. Received: {a['num_transformer_layers']}")


def _spectral_branch(x, a, dtype):
    """TF-Attention (or a plain conv stem), a max-pool, then the SE-Res blocks: (batch, F', T', C)."""
    frames = -1 if a["num_frames"] is None else a["num_frames"]
    s = layers.Reshape((a["num_mels"], frames, 1), dtype=dtype, name="add_channel")(x)  # (batch, mels, frames, 1)
    if a["tf_attention"]:
        s = TFAttention(a["tf_filters"], a["freq_kernel"], a["time_kernel"], a["attention_reduction"],
                        attention_reading=a["attention_reading"], conv1=a["tf_conv1"], dtype=dtype,
                        name="tf_attention")(s)
    else:
        s = layers.Conv2D(2 * a["tf_filters"], 3, padding="same", use_bias=False, dtype=dtype, name="stem_conv")(s)
        s = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, dtype=dtype, name="stem_norm")(s)
        s = layers.ReLU(dtype=dtype, name="stem_relu")(s)
    s = layers.MaxPooling2D(a["stem_pool"], dtype=dtype, name="stem_pool")(s)  # (batch, F/2, T/2, C)
    for i, width in enumerate(a["block_widths"]):
        s = SEResBlock(width, strides=2, squeeze_excite=a["squeeze_excite"], se_reduction=a["se_reduction"],
                       dtype=dtype, name=f"res_block_{i}")(s)
    return s


def _temporal_branch(x, spec_map, a, dtype):
    """The sequence (log-mel frames, or the spectral map's time axis when serial) through the temporal module."""
    dim = a["model_dim"] or a["num_mels"]
    if a["fusion"] == "serial":
        seq = layers.Permute((2, 1, 3), dtype=dtype, name="time_major")(spec_map)  # (batch, T', F', C)
        seq = layers.Reshape((-1, spec_map.shape[1] * spec_map.shape[3]), dtype=dtype,
                             name="to_sequence")(seq)  # (batch, T', F'*C)
        seq = layers.Dense(dim, dtype=dtype, name="project")(seq)
    else:
        seq = layers.Permute((2, 1), dtype=dtype, name="time_major")(x)  # (batch, frames, mels)
        if a["temporal_pool"] > 1:
            seq = layers.MaxPooling1D(a["temporal_pool"], dtype=dtype, name="temporal_pool")(seq)
        if dim != a["num_mels"]:
            seq = layers.Dense(dim, dtype=dtype, name="project")(seq)  # (batch, steps, dim)
    kind, units = a["temporal"], a["rnn_units"]
    if kind == "transformer":
        seq = SinePositionEncoding(dtype=dtype, name="position_encoding")(seq)
        for i in range(a["num_transformer_layers"]):
            seq = TransformerEncoder(a["num_heads"], a["intermediate_dim"], a["dropout"], dtype=dtype,
                                     name=f"transformer_layer_{i}")(seq)
        return layers.GlobalAveragePooling1D(dtype=dtype, name="temporal_pool_out")(seq)
    if kind == "lstm":
        return layers.LSTM(units, dtype=dtype, name="lstm")(seq)
    if kind == "gru":
        return layers.GRU(units, dtype=dtype, name="gru")(seq)
    return layers.Bidirectional(layers.GRU(units, dtype=dtype), dtype=dtype, name="bigru")(seq)


def backbone_arg_names():
    """The names `TSResformerBackbone` takes (what `tsr train --set` may change)."""
    import inspect

    return [p for p in inspect.signature(TSResformerBackbone.__init__).parameters if p not in ("self", "kwargs")]


def check_backbone_args(preset, **overrides):
    """Refuses an unknown preset, unknown --set names and settings that do not go together, before any work."""
    _check_args(backbone_args(preset, **overrides))


def backbone_args(preset, **overrides):
    """A preset's backbone arguments with `overrides` applied; unknown names get an error listing the valid ones."""
    valid = backbone_arg_names()
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ArgumentError(f"Unknown backbone argument(s) {', '.join(unknown)}. Valid: {', '.join(valid)}")
    return {**get_architecture(preset)["backbone"], **overrides}
