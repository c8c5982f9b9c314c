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

from keras_tsr.errors import ArgumentError
from keras_tsr.evaluate.metrics import (
    PAPER_FMA_SMALL,
    bootstrap_intervals,
    classification_metrics,
    track_probabilities,
)
from keras_tsr.evaluate.plots import plot_all

log = logging.getLogger("keras_tsr.evaluate")


def predict_split(model, ds, multilabel=False):
    """Runs the model over a (x, targets, track_id) pipeline; returns probs, labels (class indices, or a
    multi-label pipeline's multi-hot targets), track ids."""
    probs, labels, ids = [], [], []
    for x, y, tid in ds:
        probs.append(np.asarray(model.predict_on_batch(np.asarray(x))))
        labels.append(np.asarray(y) if multilabel else np.argmax(np.asarray(y), axis=1))
        ids.append(np.asarray(tid))
    return np.concatenate(probs), np.concatenate(labels), np.concatenate(ids)


def _handle(wd):
    from keras_tsr.datasets.handle import DatasetHandle

    run, g = wd.run_record(), wd.geometry()
    handle = DatasetHandle(run.dataset, run.data_dir, run.genres, g.segment_seconds, g.overlap)
    handle.check()
    return handle


def _split_predictions(wd, split, batch_size, model=None, handle=None):
    """(probs, labels, track ids) of a trained workdir's best checkpoint over `split`, in the split's order."""
    run = wd.run_record()
    model = model or wd.load_best_model(for_inference=True)
    handle = handle or _handle(wd)
    ds = handle.load_split(run.split(split), batch_size or run.batch_size, with_ids=True)
    return predict_split(model, ds, multilabel=handle.multilabel)


def split_metrics(probs, labels, ids, run, split, n_boot=1000):
    """metrics.json's content from segment probabilities: both levels, with bootstrap intervals over tracks
    (`run`: the workdir's `RunRecord`)."""
    names = run.class_names
    seg_pred = probs.argmax(1)
    seg = classification_metrics(labels, seg_pred, len(names))
    seg["ci95"] = bootstrap_intervals(labels, seg_pred, ids, len(names), n_boot)
    tids, tprobs, tlabels = track_probabilities(probs, ids, labels)
    trk = classification_metrics(tlabels, tprobs.argmax(1), len(names))
    trk["ci95"] = bootstrap_intervals(tlabels, tprobs.argmax(1), tids, len(names), n_boot)
    return {"split": split, "dataset": run.dataset, "preset": run.preset, "class_names": names,
            "segment": seg, "track": trk, "paper_fma_small": PAPER_FMA_SMALL,
            "notes": "accuracy: plain; average_accuracy: the paper's Eq. 10 (mean over classes of "
                     "(TP+TN)/N); ci95: 95% bootstrap intervals over tracks"}


def evaluate_workdir(workdir, split="test", batch_size=None, n_boot=1000):
    """Evaluates the workdir's best checkpoint on `split`; writes and returns eval/metrics.json's content."""
    from keras_tsr.artifacts import Workdir
    from keras_tsr.utils import check_writable

    wd = Workdir(workdir).require_trained()
    check_writable(wd.eval_dir, "folder", option=None)
    if wd.run_record().task == "multilabel":
        return evaluate_multilabel(wd, split, batch_size, n_boot)
    metrics = split_metrics(*_split_predictions(wd, split, batch_size), wd.run_record(), split, n_boot)
    os.makedirs(wd.eval_dir, exist_ok=True)
    plot_all(metrics, wd)
    wd.write_metrics(metrics)  # last: a metrics.json means the evaluation (plots included) is whole
    log.info("%s: segment accuracy %.4f, track accuracy %.4f (macro F1 %.4f) on %d tracks", split,
             metrics["segment"]["accuracy"], metrics["track"]["accuracy"], metrics["track"]["macro_f1"],
             metrics["track"]["n"])
    return metrics


def evaluate_ensemble(workdirs, split="test", batch_size=None, n_boot=1000):
    """The metrics of several trained workdirs as one model: their segment probabilities averaged.

    The workdirs must hold runs on the same data, split and segments (an ensemble of seeds, as `tsr cv --seeds`
    trains); returns metrics.json's content, with each member's track accuracy under "members".
    """
    from keras_tsr.artifacts import Workdir

    wds = [Workdir(w).require_trained() for w in workdirs]
    records = [wd.run_record() for wd in wds]
    keys = ("dataset", "splits", "class_names", "geometry", "genres")
    for wd, r in zip(wds[1:], records[1:], strict=True):
        if any(getattr(r, k) != getattr(records[0], k) for k in keys):
            raise ArgumentError(f"{wd.path} was trained on other data or segments than {wds[0].path}: an ensemble's "
                             f"members share {', '.join(keys)}")
    if records[0].task == "multilabel":
        metrics = multilabel_metrics(wds, split, batch_size, n_boot)
        metrics["members"] = {"workdirs": [wd.path for wd in wds]}
        return metrics
    runs = [_split_predictions(wd, split, batch_size) for wd in wds]
    for probs, labels, ids in runs[1:]:
        if not (np.array_equal(ids, runs[0][2]) and np.array_equal(labels, runs[0][1])):
            raise ValueError("the ensemble's members read the split in different orders")
    members = []
    for probs, labels, ids in runs:
        _, tprobs, tlabels = track_probabilities(probs, ids, labels)
        members.append(float(np.mean(tprobs.argmax(1) == tlabels)))
    probs = np.mean([r[0] for r in runs], axis=0)
    metrics = split_metrics(probs, runs[0][1], runs[0][2], records[0], split, n_boot)
    metrics["members"] = {"workdirs": [wd.path for wd in wds], "track_accuracy": members}
    return metrics


def _multilabel_level(y, probs, ids, threshold, vocabulary, top_genres, n_boot):
    """One level's multi-label metrics (`keras_tsr.evaluate.multilabel`); `ids` group the bootstrap."""
    from keras_tsr.evaluate import multilabel as ml

    out = ml.scores(y, probs, threshold)
    out.update(ml.hierarchical_scores(y, probs, threshold, vocabulary))
    out.update(ml.top_level_accuracy(probs, top_genres, vocabulary) or {})
    out["ci95"] = ml.bootstrap_intervals(y, probs, ids, threshold, min(n_boot, ml.MAX_BOOT))
    return out


def evaluate_multilabel(wd, split="test", batch_size=None, n_boot=1000):
    """A multi-label workdir's evaluation: the decision threshold tuned on the validation split (track level,
    micro-F1; 0.5 for a run without one, as cross-validation's fixed protocol), then `split`'s scores at segment
    and track level; writes eval/metrics.json (the threshold in it, which prediction and exports read) and
    eval/per_genre_average_precision.png."""
    from keras_tsr.evaluate.plots import plot_multilabel

    metrics = multilabel_metrics([wd], split, batch_size, n_boot)
    os.makedirs(wd.eval_dir, exist_ok=True)
    plot_multilabel(metrics, wd)
    wd.write_metrics(metrics)
    t = metrics["track"]
    log.info("%s: track macro ROC-AUC %.4f, macro AP %.4f, micro-F1 %.4f at threshold %.2f, top-level accuracy "
             "%s on %d tracks", split, t.get("macro_roc_auc", float("nan")),
             t.get("macro_average_precision", float("nan")), t["micro_f1"], metrics["threshold"],
             f"{t['top_level_accuracy']:.4f}" if "top_level_accuracy" in t else "n/a", t["n"])
    return metrics


def multilabel_metrics(wds, split="test", batch_size=None, n_boot=1000):
    """metrics.json's content for one multi-label workdir, or several as one model (an ensemble: their segment
    probabilities averaged, on the validation split too, where the threshold is tuned)."""
    from keras_tsr.evaluate import multilabel as ml

    run = wds[0].run_record()
    handle, vocabulary = _handle(wds[0]), run.genre_vocabulary
    models = [wd.load_best_model(for_inference=True) for wd in wds]  # once, for the validation and test splits

    def averaged(name):
        runs = [_split_predictions(wd, name, batch_size, model, handle) for wd, model in zip(wds, models)]
        return np.mean([r[0] for r in runs], axis=0), runs[0][1], runs[0][2]

    validation = run.splits.get("validation", "validation")
    threshold, tuned_on = 0.5, "none: the run has no validation split (0.5)"
    if validation:
        vp, vy, vi = averaged("validation")
        _, val_probs, val_y = track_probabilities(vp, vi, vy)
        threshold, tuned_on = ml.tune_threshold(val_y, val_probs), f"{validation} (track level, best micro-F1)"
    probs, y, ids = averaged(split)
    tops = handle.top_genres(run.split(split))
    tids, tprobs, ty = track_probabilities(probs, ids, y)
    return {
        "task": "multilabel", "split": split, "dataset": run.dataset, "preset": run.preset,
        "class_names": run.class_names, "genre_vocabulary": vocabulary, "threshold": threshold,
        "threshold_tuned_on": tuned_on,
        "segment": _multilabel_level(y, probs, ids, threshold, vocabulary, [tops[int(t)] for t in ids], n_boot),
        "track": _multilabel_level(ty, tprobs, tids, threshold, vocabulary, [tops[int(t)] for t in tids], n_boot),
        "notes": "targets: genres_all (each genre with its ancestors); ROC-AUC and average precision are "
                 "threshold-free; F1 at the threshold tuned on validation; hierarchical scores expand predictions "
                 "to their ancestors; top_level_accuracy: the most probable root genre against genre_top; "
                 f"ci95: 95% bootstrap intervals over tracks ({min(n_boot, ml.MAX_BOOT)} draws)",
    }
