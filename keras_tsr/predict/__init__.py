"""Prediction: a genre per audio file (`GenreModel`, `predict_paths`) from any model reference."""

from keras_tsr.artifacts import ModelError
from keras_tsr.predict.prediction import GenreModel, expand_inputs, format_table, predict_paths

__all__ = ["GenreModel", "ModelError", "expand_inputs", "format_table", "predict_paths"]
