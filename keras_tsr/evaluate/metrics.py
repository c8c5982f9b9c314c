"""The metrics of a test split, from scikit-learn: plain accuracy beside the paper's Eq. 10 average accuracy,
macro precision, recall and F1, per-genre accuracy, confusion matrices, and bootstrap intervals over tracks.

Track level averages the segment probabilities of each track (a song's genre), as prediction does.
"""

from __future__ import annotations

import numpy as np


def average_accuracy(cm):
    """The paper's Eq. 10: mean over classes of (TP_i + TN_i) / N (Sokolova and Lapalme's "average accuracy").

    For single-label predictions it equals 1 - 2 (1 - accuracy) / k over k
    classes, so it runs far above plain accuracy: 60.9% plain accuracy is
    90.2% of it for 8 classes.
    """
    cm = np.asarray(cm, dtype=float)
    n = cm.sum()
    if n == 0:
        return 0.0
    tp = np.diag(cm)
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    tn = n - tp - fp - fn
    return float(np.mean((tp + tn) / n))


def classification_metrics(y_true, y_pred, num_classes):
    """Accuracy, the paper's average accuracy (Eq. 10), macro precision / recall / F1, per-class accuracy
    (recall) and the confusion matrix, from scikit-learn.

    Macro averages run over the classes present in `y_true` (a class absent
    from a split has no recall to average); a class never predicted counts
    precision 0.
    """
    from sklearn import metrics as skm

    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    labels = np.arange(num_classes)
    cm = skm.confusion_matrix(y_true, y_pred, labels=labels) if len(y_true) else np.zeros((num_classes,) * 2, int)
    present = np.unique(y_true)
    if len(present):
        p, r, f1, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=present, average="macro",
                                                          zero_division=0)
        per_class = skm.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    else:
        p = r = f1 = 0.0
        per_class = np.zeros(num_classes)
    return {
        "n": int(len(y_true)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "average_accuracy": average_accuracy(cm),
        "macro_precision": float(p),
        "macro_recall": float(r),
        "macro_f1": float(f1),
        "per_class_accuracy": [float(v) for v in per_class],
        "confusion_matrix": cm.tolist(),
    }


CI_METRICS = ("accuracy", "average_accuracy", "macro_f1")


def bootstrap_intervals(y_true, y_pred, groups, num_classes, n_boot=1000, seed=0, level=0.95):
    """Percentile bootstrap confidence intervals of accuracy, average accuracy and macro F1.

    Resamples whole tracks (`groups`), so the segments of one song stay
    together: the unit that varies between test sets is the track.
    Returns {metric: [low, high]}.
    """
    from sklearn import metrics as skm

    y_true, y_pred, groups = map(np.asarray, (y_true, y_pred, groups))
    if len(y_true) == 0:
        return {m: [0.0, 0.0] for m in CI_METRICS}
    uniq, inverse = np.unique(groups, return_inverse=True)
    members = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[members], np.arange(len(uniq)))
    counts = np.bincount(inverse, minlength=len(uniq))
    rng = np.random.default_rng(seed)
    labels = np.arange(num_classes)
    values = {m: [] for m in CI_METRICS}
    for _ in range(n_boot):
        picked = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([members[starts[g]: starts[g] + counts[g]] for g in picked])
        t, p = y_true[idx], y_pred[idx]
        cm = skm.confusion_matrix(t, p, labels=labels)
        values["accuracy"].append(np.trace(cm) / cm.sum())
        values["average_accuracy"].append(average_accuracy(cm))
        values["macro_f1"].append(skm.f1_score(t, p, labels=np.unique(t), average="macro", zero_division=0))
    alpha = (1 - level) / 2
    return {m: [float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha))] for m, v in values.items()}


def track_probabilities(probs, track_ids, labels):
    """Mean segment probability per track; returns (track_ids, probs, labels) sorted by track id (labels: class
    indices, or a multi-label run's multi-hot rows)."""
    labels = np.asarray(labels)
    tracks = np.unique(track_ids)
    idx = np.searchsorted(tracks, track_ids)
    sums = np.zeros((len(tracks), probs.shape[1]))
    np.add.at(sums, idx, probs)
    counts = np.bincount(idx, minlength=len(tracks))[:, None]
    track_labels = np.zeros((len(tracks), *labels.shape[1:]), np.int64 if labels.ndim == 1 else labels.dtype)
    track_labels[idx] = labels
    return tracks, sums / counts, track_labels



# The paper's headline on FMA-small (its Eq. 10, segment level, its random 8:1:1 split), and the plain
# accuracy it implies for 8 classes (1 - 8 (1 - 0.9023) / 2).
PAPER_FMA_SMALL = {"average_accuracy": 0.9023, "implied_accuracy": 1 - 8 * (1 - 0.9023) / 2}

# The three figures a study (cv, the paper's grids) reports a run by, per task, and their table headers.
STUDY_KEYS = {"single_label": ("accuracy", "average_accuracy", "macro_f1"),
              "multilabel": ("macro_roc_auc", "macro_average_precision", "micro_f1")}
KEY_HEADERS = {"accuracy": "acc", "average_accuracy": "Eq.10", "macro_f1": "F1", "macro_roc_auc": "ROC-AUC",
               "macro_average_precision": "AP", "micro_f1": "micro-F1"}


def study_keys(metrics) -> tuple:
    """The figures a study reports of one run's metrics.json content."""
    return STUDY_KEYS[metrics.get("task") or "single_label"]


def summary_lines(metrics):
    """The CLI's summary: both accuracies with their intervals, beside the paper's figure (a multi-label
    evaluation: its ranking and thresholded scores)."""
    if metrics.get("task") == "multilabel":
        return _multilabel_lines(metrics)
    lines = []
    for level in ("segment", "track"):
        r = metrics[level]
        ci = r.get("ci95", {})

        def fmt(key):
            lo_hi = ci.get(key)
            return f"{r[key]:.4f}" + (f" [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "")

        lines.append(f"{level:8s} accuracy {fmt('accuracy')}  Eq.10 average accuracy {fmt('average_accuracy')}  "
                     f"macro P {r['macro_precision']:.4f} R {r['macro_recall']:.4f} F1 {fmt('macro_f1')}  "
                     f"(n={r['n']})")
    paper = PAPER_FMA_SMALL
    lines.append(f"paper (FMA-small, segments, its random split): Eq.10 average accuracy {paper['average_accuracy']:.4f}"
                 f", i.e. plain accuracy {paper['implied_accuracy']:.4f}; [..] are 95% bootstrap intervals")
    return lines


def _multilabel_lines(metrics):
    lines = []
    for level in ("segment", "track"):
        r, ci = metrics[level], metrics[level].get("ci95", {})

        def fmt(key, r=r, ci=ci):
            if key not in r:
                return "n/a"
            lo_hi = ci.get(key)
            return f"{r[key]:.4f}" + (f" [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "")

        lines.append(f"{level:8s} macro ROC-AUC {fmt('macro_roc_auc')}  macro AP {fmt('macro_average_precision')}  "
                     f"micro-F1 {fmt('micro_f1')}  hierarchical F1 {fmt('hierarchical_f1')}  top-level accuracy "
                     f"{fmt('top_level_accuracy')}  (n={r['n']}, {r['genres_evaluated']} genres)")
    lines.append(f"multi-label: threshold {metrics['threshold']:.2f} tuned on {metrics['threshold_tuned_on']}; "
                 f"[..] are 95% bootstrap intervals; no published FMA genres_all figure to compare with")
    return lines
