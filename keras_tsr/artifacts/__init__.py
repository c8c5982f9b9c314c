"""What training leaves on disk and how it is opened again: the workdir (`Workdir`) and model references
(`open_model`: a workdir, a .keras file or an exported SavedModel)."""

from keras_tsr.artifacts.refs import EXPORT_METADATA, ModelError, ModelRef, is_export, open_model, read_export_metadata
from keras_tsr.artifacts.workdir import Workdir, WorkdirError

__all__ = ["EXPORT_METADATA", "ModelError", "ModelRef", "Workdir", "WorkdirError", "is_export", "open_model",
           "read_export_metadata"]
