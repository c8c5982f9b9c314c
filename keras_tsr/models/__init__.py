"""Backbones, the classifier head and its preprocessor, named architectures, loading and presets."""

from keras_tsr.compat import zero_initialised_variables
from keras_tsr.models.architectures import ARCHITECTURES, get_architecture
from keras_tsr.models.backbone import TSResformerBackbone
from keras_tsr.models.classifier import GenreClassifier, build_classifier
from keras_tsr.models.loading import load_model, load_preset
from keras_tsr.models.losses import WeightedBinaryCrossentropy
from keras_tsr.models.preprocessor import GenrePreprocessor

__all__ = ["ARCHITECTURES", "GenreClassifier", "GenrePreprocessor", "TSResformerBackbone", "build_classifier",
           "get_architecture", "load_model", "load_preset", "WeightedBinaryCrossentropy",
           "zero_initialised_variables"]
