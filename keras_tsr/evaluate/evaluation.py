"""Evaluate a trained workdir: segment- and track-level metrics, confusion matrices, plots.

    tsr evaluate --workdir W [--split test]        (or python -m keras_tsr.evaluate ...)

Each level reports plain accuracy and the paper's Eq. 10 "average accuracy"
side by side (`keras_tsr.evaluate.metrics`), macro precision, recall and F1,
and 95% bootstrap intervals over tracks. Writes W/eval/metrics.json and PNG
plots: confusion_matrix.png, per_genre_accuracy.png, training_curves.png.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from keras_tsr.evaluate.metrics import (
    PAPER_FMA_SMALL,
    bootstrap_intervals,
    classification_metrics,
    track_probabilities,
)
from keras_tsr.evaluate.plots import plot_all

log = logging.getLogger("keras_tsr.evaluate")


def predict_split(model, ds):
    """Runs the model over a (x, one_hot, track_id) pipeline; returns probs, labels, track ids."""
    probs, labels, ids = [], [], []
    for x, y, tid in ds:
        probs.append(np.asarray(model.predict_on_batch(np.asarray(x))))
        labels.append(np.argmax(np.asarray(y), axis=1))
        ids.append(np.asarray(tid))
    return np.concatenate(probs), np.concatenate(labels), np.concatenate(ids)


def evaluate_workdir(workdir, split="test", batch_size=None, n_boot=1000):
    """Evaluates the workdir's best checkpoint on `split`; writes and returns eval/metrics.json's content."""
    from keras_tsr.artifacts import Workdir
    from keras_tsr.datasets import pipeline as data
    from keras_tsr.datasets import verify

    wd = Workdir(workdir).require_trained()
    config = wd.read_config()
    names = config["class_names"]
    model = wd.load_best_model(for_inference=True)
    verify.check(config["dataset"], config["data_dir"])
    info = data.dataset_info(config["dataset"], config["data_dir"])
    _, label_map = data.genre_subset(info.features["label"].names, config.get("genres") or [])
    split_expr = (config.get("splits") or {}).get(split, split)  # e.g. a cross-validation fold's test folds
    ds = data.load_split(config["dataset"], split_expr, config["data_dir"], batch_size or config["batch_size"],
                         len(names), with_ids=True, label_map=label_map, geometry=wd.geometry())
    probs, labels, ids = predict_split(model, ds)
    seg_pred = probs.argmax(1)
    seg = classification_metrics(labels, seg_pred, len(names))
    seg["ci95"] = bootstrap_intervals(labels, seg_pred, ids, len(names), n_boot)
    tids, tprobs, tlabels = track_probabilities(probs, ids, labels)
    trk = classification_metrics(tlabels, tprobs.argmax(1), len(names))
    trk["ci95"] = bootstrap_intervals(tlabels, tprobs.argmax(1), tids, len(names), n_boot)
    metrics = {"split": split, "dataset": config["dataset"], "preset": config["preset"], "class_names": names,
               "segment": seg, "track": trk, "paper_fma_small": PAPER_FMA_SMALL,
               "notes": "accuracy: plain; average_accuracy: the paper's Eq. 10 (mean over classes of "
                        "(TP+TN)/N); ci95: 95% bootstrap intervals over tracks"}
    os.makedirs(wd.eval_dir, exist_ok=True)
    plot_all(metrics, wd)
    wd.write_metrics(metrics)  # last: a metrics.json means the evaluation (plots included) is whole
    log.info("%s: segment accuracy %.4f, track accuracy %.4f (macro F1 %.4f) on %d tracks", split,
             seg["accuracy"], trk["accuracy"], trk["macro_f1"], trk["n"])
    return metrics
