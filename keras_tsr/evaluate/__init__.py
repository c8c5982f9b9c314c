"""Evaluation: the metrics (`metrics`), a workdir's evaluation (`evaluation`), its plots (`plots`) and what the
model listened to (`explain`)."""

from keras_tsr.evaluate.evaluation import evaluate_ensemble, evaluate_workdir, predict_split, split_metrics
from keras_tsr.evaluate.metrics import (
    PAPER_FMA_SMALL,
    average_accuracy,
    bootstrap_intervals,
    classification_metrics,
    summary_lines,
    track_probabilities,
)

__all__ = ["PAPER_FMA_SMALL", "average_accuracy", "bootstrap_intervals", "classification_metrics",
           "evaluate_ensemble", "evaluate_workdir", "predict_split", "split_metrics", "summary_lines", "track_probabilities"]
