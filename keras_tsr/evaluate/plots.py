"""Evaluation plots: confusion matrices, per-genre accuracy and the training curves (the paper's Fig. 12)."""

from __future__ import annotations

import numpy as np

from keras_tsr.utils import save_figure


def plot_all(metrics, wd):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

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

    _segment_and_track_bars(metrics["segment"]["per_class_accuracy"], metrics["track"]["per_class_accuracy"], names,
                            "accuracy (recall)", "per-genre accuracy", wd.eval_file("per_genre_accuracy.png"))
    _curves(wd, names)


def _segment_and_track_bars(segment, track, labels, ylabel, title, path, width=9, rotation=45, fontsize=None):
    """A bar a genre and level (segment, track) of a score in [0, 1]."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, 4.8))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, segment, 0.4, label="segment")
    ax.bar(x + 0.2, track, 0.4, label="track")
    ax.set_xticks(x, labels, rotation=rotation, ha="right", fontsize=fontsize)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9 if len(title) > 60 else None)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def _curves(wd, names):
    rows = wd.log_rows()
    if rows:
        plot_training_curves(rows, names, wd.eval_file("training_curves.png"))


def plot_multilabel(metrics, wd):
    """A multi-label evaluation's picture: each genre's average precision at segment and track level, sorted,
    with its support; then the training curves."""
    import matplotlib

    matplotlib.use("Agg")

    names, trk, seg = metrics["class_names"], metrics["track"], metrics["segment"]
    rows = [(names[j], ap, seg["per_genre_average_precision"][j], trk["support"][j])
            for j, ap in enumerate(trk["per_genre_average_precision"]) if ap is not None]
    rows.sort(key=lambda r: -r[1])
    title = (f"per-genre average precision (test tracks with the genre in brackets); track macro AP "
             f"{trk.get('macro_average_precision', float('nan')):.3f}, macro ROC-AUC "
             f"{trk.get('macro_roc_auc', float('nan')):.3f}")
    _segment_and_track_bars([r[2] for r in rows], [r[1] for r in rows], [f"{r[0]} ({r[3]})" for r in rows],
                            "average precision", title, wd.eval_file("per_genre_average_precision.png"),
                            width=max(8, 0.32 * len(rows) + 2), rotation=70, fontsize=7)
    _curves(wd, names)


def plot_training_curves(rows, class_names, path):
    """Loss and accuracy per epoch, and each genre's validation accuracy per epoch (the paper's Fig. 12)."""
    import matplotlib.pyplot as plt

    from keras_tsr.models.class_accuracy import metric_name
    epochs = np.arange(1, len(rows) + 1)
    per_genre = [(n, f"val_{metric_name(n)}") for n in class_names if rows[0].get(f"val_{metric_name(n)}") is not None]
    fig, axes = plt.subplots(1, 3 if per_genre else 2, figsize=(18 if per_genre else 12, 4.5))
    score = "auc" if rows[0].get("auc") is not None else "accuracy"  # a multi-label run logs its macro ROC-AUC
    for ax, key in zip(axes, ("loss", score)):
        for prefix, label in (("", "train"), ("val_", "validation")):
            vals = [r[prefix + key] for r in rows if r.get(prefix + key) is not None]
            if vals:
                ax.plot(epochs[: len(vals)], vals, marker=".", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if per_genre:
        ax = axes[2]
        for name, column in per_genre:
            ax.plot(epochs, [np.nan if r[column] is None else r[column] for r in rows], marker=".", label=name)
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
