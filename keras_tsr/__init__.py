"""keras-tsr: TS-Resformer music genre classification in Keras 3."""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_onednn_defaulted = False
if _os.environ.get("KERAS_BACKEND", "jax") != "tensorflow" and "TF_ENABLE_ONEDNN_OPTS" not in _os.environ:
    # TensorFlow only feeds the input pipeline here (no model math): its oneDNN kernels buy nothing, and leaving
    # them off keeps its start-up banner off the screen. (`--backend tensorflow` undoes this default.)
    _os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    _onednn_defaulted = True

__version__ = "0.1.0"


def child_env(backend, **extra):
    """The environment for a child process under `backend`: this one's, less the TensorFlow default set above
    for this process's JAX backend (a TensorFlow child keeps oneDNN on, as it would started on its own)."""
    env = dict(_os.environ)
    if _onednn_defaulted and env.get("TF_ENABLE_ONEDNN_OPTS") == "0":
        del env["TF_ENABLE_ONEDNN_OPTS"]
    return {**env, "KERAS_BACKEND": backend, **extra}


def disable_onednn_for_training():
    """Turns TensorFlow's oneDNN CPU kernels off for a process that will train under the TensorFlow backend.

    TensorFlow 2.21's oneDNN path crashes (SIGSEGV or a corrupted heap) in
    the first training steps of any model with a strided 1 x 1 convolution,
    such as the skip connection of our residual blocks, TensorFlow alone, no
    jaxlib in the process (`python scripts/onednn_repro.py` reproduces it in
    five lines of Keras). Inference is not affected and runs 1.6x faster
    with oneDNN, so only training turns it off. It must happen before
    tensorflow is imported; returns False if that is too late.
    """
    import sys

    if "tensorflow" in sys.modules:
        return _os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0"
    _os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return _os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
