"""Backbones, the classifier head and named presets."""

from keras_tsr.compat import zero_initialised_variables
from keras_tsr.models.backbone import TSResformerBackbone
from keras_tsr.models.classifier import GenreClassifier, build_classifier
from keras_tsr.models.loading import load_model, load_preset
from keras_tsr.models.preprocessor import GenrePreprocessor
from keras_tsr.models.presets import PRESETS, get_preset

__all__ = ["PRESETS", "GenreClassifier", "GenrePreprocessor", "TSResformerBackbone", "build_classifier", "get_preset",
           "load_model", "load_preset", "zero_initialised_variables"]
