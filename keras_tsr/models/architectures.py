"""Named architectures: the paper's model, its baselines and ablations, and small ones for demos and tests.

An architecture is a name for a dict of `TSResformerBackbone` arguments plus head settings, without weights
(`GenreClassifier.from_preset(name, num_classes)` builds it new); a *preset* is a trained model folder or hub handle
(`save_to_preset` / `from_preset`, keras-hub's word). The CLI's `--architecture` (also spelled `--preset`, as before)
and config.json's "preset" key (kept so that existing runs resume) name an architecture.
Rows of the paper's tables 3 to 5 map to architectures as follows:
ts_resformer (TF-Attention + SE-Res || Transformer x4), res_transformer (no
TF-Attention, no SE), serial_res_transformer, ts_resformer_no_tf_attention,
ts_resformer_no_se, resnet, transformer, lstm, gru, bigru, resnet_lstm,
resnet_gru, resnet_bigru; the number of Transformer layers (1 to 5) is the
`num_transformer_layers` argument.
"""

import copy

from keras_tsr.errors import ArgumentError

PAPER = {
    "spectral": True,
    "tf_attention": True,
    "squeeze_excite": True,
    "temporal": "transformer",
    "num_transformer_layers": 4,
    "num_heads": 4,
    "intermediate_dim": 512,
    "dropout": 0.4,
    "fusion": "parallel",
}
PLAIN_RES = {"tf_attention": False, "squeeze_excite": False}


def _architecture(description, head_dropout=0.0, **backbone):
    return {"description": description, "backbone": {**PAPER, **backbone}, "head_dropout": head_dropout}


ARCHITECTURES = {
    "ts_resformer": _architecture("TS-Resformer as in the paper: TF-Attention + SE-Res blocks || 4-layer Transformer."),
    "res_transformer": _architecture("Res-Transformer: plain residual blocks || 4-layer Transformer.", **PLAIN_RES),
    "serial_res_transformer": _architecture("Residual network, then the Transformer (serial).", fusion="serial",
                                      **PLAIN_RES),
    "ts_resformer_no_tf_attention": _architecture("TS-Resformer without TF-Attention.", tf_attention=False),
    "ts_resformer_no_se": _architecture("TS-Resformer without SE.", squeeze_excite=False),
    "resnet": _architecture("Residual network alone.", temporal=None, **PLAIN_RES),
    "transformer": _architecture("4-layer Transformer alone.", spectral=False),
    "lstm": _architecture("LSTM alone.", spectral=False, temporal="lstm"),
    "gru": _architecture("GRU alone.", spectral=False, temporal="gru"),
    "bigru": _architecture("Bidirectional GRU alone.", spectral=False, temporal="bigru"),
    "resnet_lstm": _architecture("Residual network || LSTM.", temporal="lstm", **PLAIN_RES),
    "resnet_gru": _architecture("Residual network || GRU.", temporal="gru", **PLAIN_RES),
    "resnet_bigru": _architecture("Residual network || bidirectional GRU.", temporal="bigru", **PLAIN_RES),
    "demo": _architecture(
        "TS-Resformer, narrow: trains on 2 CPU cores in minutes (the built-in demo).",
        tf_filters=4, stem_pool=(4, 4), block_widths=(16, 32, 64), num_transformer_layers=2,
        intermediate_dim=128, dropout=0.1, temporal_pool=8, model_dim=64,
    ),
    "debug": _architecture(
        "Tiny TS-Resformer for tests.",
        tf_filters=4, stem_pool=(4, 4), block_widths=(8, 16), se_reduction=4, attention_reduction=2,
        num_transformer_layers=1, num_heads=2, intermediate_dim=32, dropout=0.1, temporal_pool=16, model_dim=16,
    ),
}


def get_architecture(name):
    """Returns a deep copy of an architecture's settings; a clear error for unknown names."""
    if name not in ARCHITECTURES:
        raise ArgumentError(f"Unknown architecture {name!r}. Choose one of: {', '.join(ARCHITECTURES)}")
    return copy.deepcopy(ARCHITECTURES[name])
