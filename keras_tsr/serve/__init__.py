"""Exports (`export`: a TF SavedModel for TF Serving, ONNX, LiteRT, a keras-hub preset), their fresh-process
check (`check`) and TF Serving request bodies (`request`)."""

from keras_tsr.serve.export import FORMATS, ExportError, export_model, export_saved_model
from keras_tsr.serve.request import request_body

__all__ = ["FORMATS", "ExportError", "export_model", "export_saved_model", "request_body"]
