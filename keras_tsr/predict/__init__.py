"""Prediction and embeddings from any model reference: a genre per audio file (`GenreModel`, `predict_paths`),
the vector the classifier head reads (`GenreModel.embed`, `embed_paths`) and nearest tracks (`similar`)."""

from keras_tsr.artifacts import ModelError
from keras_tsr.predict.embedding import (
                                         EmbeddingFileError,
                                         embed_paths,
                                         nearest,
                                         read_embeddings,
                                         similar,
                                         write_embeddings,
)
from keras_tsr.predict.output import format_table
from keras_tsr.predict.prediction import GenreModel, expand_inputs, predict_paths, run_paths

__all__ = ["EmbeddingFileError", "GenreModel", "ModelError", "embed_paths", "expand_inputs", "format_table",
           "nearest", "predict_paths", "read_embeddings", "run_paths", "similar", "write_embeddings"]
