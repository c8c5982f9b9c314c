"""Serving: the TF SavedModel export (`export`) and TF Serving request bodies (`request`)."""

from keras_tsr.serve.export import ExportError, export_saved_model
from keras_tsr.serve.request import request_body

__all__ = ["ExportError", "export_saved_model", "request_body"]
