"""Evaluate a trained workdir: segment- and track-level metrics, confusion matrices, plots.

    python -m keras_tsr.evaluate --workdir W [--split test]

Track level averages the segment probabilities of each track (a song's genre),
as `keras_tsr.predict` does. Writes W/eval/metrics.json and PNG plots:
confusion_matrix.png, per_genre_accuracy.png, training_curves.png.
"""

from __future__ import annotations

import json
import logging
import os

import numpy as np

log = logging.getLogger("keras_tsr.evaluate")


def classification_metrics(y_true, y_pred, num_classes):
    """Accuracy, macro precision / recall / F1, per-class accuracy (recall) and the confusion matrix."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1), cm.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = support > 0  # macro over the classes present in the split
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "macro_precision": float(precision[present].mean()),
        "macro_recall": float(recall[present].mean()),
        "macro_f1": float(f1[present].mean()),
        "per_class_accuracy": recall.tolist(),
        "confusion_matrix": cm.tolist(),
    }


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


def evaluate_workdir(workdir, split="test", batch_size=None):
    """Evaluates W/best.keras on `split`; writes and returns W/eval/metrics.json's content."""
    from keras_tsr import data
    from keras_tsr.models import load_model

    config_path, model_path = os.path.join(workdir, "config.json"), os.path.join(workdir, "best.keras")
    for p in (config_path, model_path):
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p} not found: is {workdir} a keras_tsr.train workdir?")
    with open(config_path) as f:
        config = json.load(f)
    names = config["class_names"]
    model = load_model(model_path)
    ds = data.load_split(config["dataset"], split, config["data_dir"], batch_size or config["batch_size"],
                         len(names), with_ids=True)
    probs, labels, ids = predict_split(model, ds)
    seg = classification_metrics(labels, probs.argmax(1), len(names))
    _, tprobs, tlabels = track_probabilities(probs, ids, labels)
    trk = classification_metrics(tlabels, tprobs.argmax(1), len(names))
    metrics = {"split": split, "dataset": config["dataset"], "preset": config["preset"], "class_names": names,
               "segment": seg, "track": trk}
    out = os.path.join(workdir, "eval")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    plot_all(metrics, workdir, out)
    log.info("%s: segment accuracy %.4f, track accuracy %.4f (macro F1 %.4f) on %d tracks", split,
             seg["accuracy"], trk["accuracy"], trk["macro_f1"], trk["n"])
    return metrics


def plot_all(metrics, workdir, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = metrics["class_names"]
    fig, axes = plt.subplots(1, 2, figsize=(15, 6.5))
    for ax, level in zip(axes, ("segment", "track")):
        cm = np.asarray(metrics[level]["confusion_matrix"], float)
        norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{level} level: accuracy {metrics[level]['accuracy']:.3f}, "
                     f"macro F1 {metrics[level]['macro_f1']:.3f} (n={metrics[level]['n']})")
    fig.suptitle(f"{metrics['preset']} on {metrics['dataset']} ({metrics['split']})")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "confusion_matrix.png"), dpi=110)
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
    fig.savefig(os.path.join(out, "per_genre_accuracy.png"), dpi=110)
    plt.close(fig)

    log_path = os.path.join(workdir, "log.csv")
    if os.path.exists(log_path):
        import csv

        with open(log_path) as f:
            rows = list(csv.DictReader(f))
        if rows:
            epochs = np.arange(1, len(rows) + 1)
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
            for ax, key in zip(axes, ("loss", "accuracy")):
                for prefix, label in (("", "train"), ("val_", "validation")):
                    vals = [float(r[prefix + key]) for r in rows if r.get(prefix + key)]
                    if vals:
                        ax.plot(epochs[: len(vals)], vals, marker=".", label=label)
                ax.set_xlabel("epoch")
                ax.set_ylabel(key)
                ax.grid(alpha=0.3)
                ax.legend()
            fig.suptitle("training curves")
            fig.tight_layout()
            fig.savefig(os.path.join(out, "training_curves.png"), dpi=110)
            plt.close(fig)


def main(argv=None):
    from keras_tsr.cli import evaluate_command

    evaluate_command.main(args=argv, prog_name="python -m keras_tsr.evaluate")


if __name__ == "__main__":
    main()
