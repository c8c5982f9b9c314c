"""Backbones, the classifier head and named presets."""

from keras_tsr.models.backbone import TSResformerBackbone
from keras_tsr.models.classifier import GenreClassifier
from keras_tsr.models.presets import PRESETS, build_classifier, get_preset

__all__ = ["PRESETS", "GenreClassifier", "TSResformerBackbone", "build_classifier", "get_preset"]
