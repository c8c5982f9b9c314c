"""What training leaves on disk and how it is opened again: the workdir (`Workdir`), model references
(`open_model`: a workdir, a .keras file, a SavedModel, a preset or hub handle, an .onnx or .tflite export), presets
(`keras_tsr.hub`, `keras_tsr.models.loading`, `keras_tsr.models.preset_saving`) and the metadata inside single-file
exports (`embedded`)."""

from keras_tsr.artifacts.refs import (
                                      EXPORT_METADATA,
                                      FORMS,
                                      KERAS_KINDS,
                                      KINDS,
                                      ModelError,
                                      ModelRef,
                                      is_export,
                                      open_model,
                                      read_export_metadata,
)
from keras_tsr.artifacts.workdir import RunRecord, Workdir, WorkdirError

__all__ = ["EXPORT_METADATA", "FORMS", "KERAS_KINDS", "KINDS", "ModelError", "ModelRef", "RunRecord", "Workdir", "WorkdirError",
           "is_export", "open_model", "read_export_metadata"]
