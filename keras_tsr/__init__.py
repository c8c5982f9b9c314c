"""keras-tsr: TS-Resformer music genre classification in Keras 3."""

import os as _os

# TensorFlow 2.21's oneDNN CPU kernels corrupt the heap while training this
# model family ("corrupted double-linked list" on the first fit step); the
# Eigen kernels are correct. Must be set before tensorflow is imported.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
