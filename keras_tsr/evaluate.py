"""Evaluate a trained workdir: segment- and track-level metrics, confusion matrices, plots.

    python -m keras_tsr evaluate --workdir W [--split test]

Track level averages the segment probabilities of each track (a song's genre),
as `keras_tsr.predict` does. Each level reports plain accuracy and the paper's
Eq. 10 "average accuracy" side by side (see `average_accuracy`), macro
precision, recall and F1, and 95% bootstrap intervals over tracks. Writes
W/eval/metrics.json and PNG plots: confusion_matrix.png,
per_genre_accuracy.png, training_curves.png. Metrics and the confusion-matrix
plot come from scikit-learn.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("keras_tsr.evaluate")


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
    """Mean segment probability per track; returns (track_ids, probs, labels) sorted by track id."""
    tracks = np.unique(track_ids)
    idx = np.searchsorted(tracks, track_ids)
    sums = np.zeros((len(tracks), probs.shape[1]))
    np.add.at(sums, idx, probs)
    counts = np.bincount(idx, minlength=len(tracks))[:, None]
    track_labels = np.zeros(len(tracks), np.int64)
    track_labels[idx] = labels
    return tracks, sums / counts, track_labels


def predict_split(model, ds):
    """Runs the model over a (x, one_hot, track_id) pipeline; returns probs, labels, track ids."""
    probs, labels, ids = [], [], []
    for x, y, tid in ds:
        probs.append(np.asarray(model.predict_on_batch(np.asarray(x))))
        labels.append(np.argmax(np.asarray(y), axis=1))
        ids.append(np.asarray(tid))
    return np.concatenate(probs), np.concatenate(labels), np.concatenate(ids)


# The paper's headline on FMA-small (its Eq. 10, segment level, its random 8:1:1 split), and the plain
# accuracy it implies for 8 classes (1 - 8 (1 - 0.9023) / 2).
PAPER_FMA_SMALL = {"average_accuracy": 0.9023, "implied_accuracy": 1 - 8 * (1 - 0.9023) / 2}


def evaluate_workdir(workdir, split="test", batch_size=None, n_boot=1000):
    """Evaluates the workdir's best checkpoint on `split`; writes and returns eval/metrics.json's content."""
    from keras_tsr import data
    from keras_tsr.workdir import Workdir

    wd = Workdir(workdir).require_trained()
    config = wd.read_config()
    names = config["class_names"]
    model = wd.load_best_model(for_inference=True)
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
    wd.write_metrics(metrics)
    plot_all(metrics, wd)
    log.info("%s: segment accuracy %.4f, track accuracy %.4f (macro F1 %.4f) on %d tracks", split,
             seg["accuracy"], trk["accuracy"], trk["macro_f1"], trk["n"])
    return metrics


def summary_lines(metrics):
    """The CLI's summary: both accuracies with their intervals, beside the paper's figure."""
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


def plot_all(metrics, wd):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    from keras_tsr.workdir import save_figure

    names = metrics["class_names"]
    fig, axes = plt.subplots(1, 2, figsize=(15, 6.5))
    for ax, level in zip(axes, ("segment", "track")):
        r = metrics[level]
        ConfusionMatrixDisplay(np.asarray(r["confusion_matrix"]), display_labels=names).plot(
            ax=ax, cmap="Blues", colorbar=False, xticks_rotation=45)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{level} level: accuracy {r['accuracy']:.3f}, Eq.10 average accuracy "
                     f"{r['average_accuracy']:.3f},\nmacro F1 {r['macro_f1']:.3f} (n={r['n']})", fontsize=9)
    fig.suptitle(f"{metrics['preset']} on {metrics['dataset']} ({metrics['split']})")
    fig.tight_layout()
    save_figure(fig, wd.eval_file("confusion_matrix.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(names))
    ax.bar(x - 0.2, metrics["segment"]["per_class_accuracy"], 0.4, label="segment")
    ax.bar(x + 0.2, metrics["track"]["per_class_accuracy"], 0.4, label="track")
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy (recall)")
    ax.set_title("per-genre accuracy")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, wd.eval_file("per_genre_accuracy.png"), dpi=110)
    plt.close(fig)

    rows = wd.log_rows()
    if rows:
        plot_training_curves(rows, names, wd.eval_file("training_curves.png"))


def plot_training_curves(rows, class_names, path):
    """Loss and accuracy per epoch, and each genre's validation accuracy per epoch (the paper's Fig. 12)."""
    import matplotlib.pyplot as plt

    from keras_tsr.metrics import genre_slug
    from keras_tsr.workdir import save_figure

    epochs = np.arange(1, len(rows) + 1)
    per_genre = [(n, f"val_acc_{genre_slug(n)}") for n in class_names if rows[0].get(f"val_acc_{genre_slug(n)}")]
    fig, axes = plt.subplots(1, 3 if per_genre else 2, figsize=(18 if per_genre else 12, 4.5))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, label in (("", "train"), ("val_", "validation")):
            vals = [float(r[prefix + key]) for r in rows if r.get(prefix + key)]
            if vals:
                ax.plot(epochs[: len(vals)], vals, marker=".", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if per_genre:
        ax = axes[2]
        for name, column in per_genre:
            ax.plot(epochs, [float(r[column]) for r in rows], marker=".", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (segments)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("per genre")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle("training curves")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    from keras_tsr.cli import run_as_module

    run_as_module("evaluate", "keras_tsr.evaluate")
