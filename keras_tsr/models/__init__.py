"""Backbones, the classifier head and named presets."""

from keras_tsr.compat import zero_initialised_variables
from keras_tsr.models.backbone import TSResformerBackbone
from keras_tsr.models.classifier import GenreClassifier, build_classifier
from keras_tsr.models.loading import load_model
from keras_tsr.models.presets import PRESETS, get_preset

__all__ = ["PRESETS", "GenreClassifier", "TSResformerBackbone", "build_classifier", "get_preset", "load_model",
           "zero_initialised_variables"]
