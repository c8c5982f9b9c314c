"""A study's results: a row a finished run, mean ± sd over seeds a setting, results.csv / results.md / results.png
(with the paper's claims beside the rows where its text states one)."""

from __future__ import annotations

import csv
import io
import math
import os

from keras_tsr.evaluate.metrics import KEY_HEADERS, STUDY_KEYS, study_keys
from keras_tsr.studies.grids import GRIDS
from keras_tsr.utils import mean_sd, save_figure, write_text_atomic

LEVELS = ("track", "segment")


def metric_columns(task="single_label") -> tuple:
    """A results row's metric columns: track_accuracy, ... (a multi-label grid: track_macro_roc_auc, ...)."""
    return tuple(f"{level}_{key}" for level in LEVELS for key in STUDY_KEYS[task])


METRIC_COLUMNS = metric_columns()


def result_row(setting, seed, workdir, metrics, train_seconds, params, gflops):
    from keras_tsr import audio

    geometry = audio.Geometry(segment_seconds=float(setting.segment_seconds))
    row = {"setting": setting.label, "x": setting.x, "seed": seed, "workdir": workdir,
           "segment_seconds": setting.segment_seconds,
           "effective_seconds": round(geometry.frames * geometry.hop_length / geometry.sample_rate, 2),
           "train_seconds": train_seconds, "params": params, "gflops": gflops, "paper": setting.paper,
           "task": metrics.get("task") or "single_label"}
    for level in LEVELS:
        for key in study_keys(metrics):
            row[f"{level}_{key}"] = metrics[level].get(key)
    row["test_tracks"] = metrics["track"]["n"]
    return row


def _mean_sd(values):
    values = [v for v in values if v is not None]
    return mean_sd(values) if values else (None, None)


def summarise(rows):
    """Per setting, in first-seen order: mean and sd over seeds of every metric and the training time."""
    out = {}
    for r in rows:
        out.setdefault(r["setting"], []).append(r)
    summary = []
    for label, group in out.items():
        s = {"setting": label, "x": group[0]["x"], "seeds": len(group), "paper": group[0]["paper"],
             "params": group[0]["params"], "gflops": group[0]["gflops"],
             "effective_seconds": group[0]["effective_seconds"], "segment_seconds": group[0]["segment_seconds"],
             "test_tracks": group[0]["test_tracks"], "task": group[0].get("task", "single_label")}
        for key in (*metric_columns(s["task"]), "train_seconds"):
            s[key] = _mean_sd([r[key] for r in group])
        summary.append(s)
    return summary


def write_results(name, root, rows, scale, seeds, missing=()):
    os.makedirs(root, exist_ok=True)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_text_atomic(os.path.join(root, "results.csv"), out.getvalue())
    summary = summarise(rows)
    write_text_atomic(os.path.join(root, "results.md"), results_markdown(name, summary, scale, seeds, missing))
    plot_results(name, summary, os.path.join(root, "results.png"), scale)


def _pm(value, pct=True):
    """mean ± sd (sample sd over seeds); the mean alone where one seed has finished."""
    mean, sd = value
    if mean is None:
        return "n/a"
    scale, fmt = (100, ".1f") if pct else (1, ".0f")
    return f"{scale * mean:{fmt}}" + ("" if sd is None else f" ± {scale * sd:{fmt}}")


def results_markdown(name, summary, scale, seeds, missing=()):
    data = ("the built-in **synthetic demo data** (demo scale: narrow models, few epochs; it shows that the "
            "machinery works, not how TS-Resformer does on music)" if scale in ("demo", "smoke")
            else "FMA-small, test split")
    task = summary[0].get("task", "single_label") if summary else "single_label"
    columns = metric_columns(task)
    meaning = ("multi-label (genres_all): ROC-AUC: macro ROC-AUC over the genres; AP: macro average precision; "
               "micro-F1 at the threshold tuned on validation. No published FMA figure to compare with."
               if task == "multilabel" else
               "acc: plain accuracy; Eq.10: the paper's average accuracy (mean over genres of (TP+TN)/N = "
               "1 - 2 (1 - acc) / k); F1: macro F1. The paper reports segment-level Eq. 10 figures on its random "
               "8:1:1 split.")
    lines = [
        f"# {name}: {data}",
        "",
        f"Mean ± sample sd over the seeds of each setting ({seeds} planned; `seeds` column: finished), in percent, "
        f"on the test split. Track level averages a track's segment probabilities. {meaning}",
        "",
        "| setting | seeds | segment | " + " | ".join(f"{c.split('_')[0]} {KEY_HEADERS[c.split('_', 1)[1]]}"
                                                   for c in columns) + " | train s | params | GFLOP/seg | paper |",
        "|---|---|---|" + "---|" * len(columns) + "---|---|---|---|",
    ]
    for s in summary:
        seg = f"{s['segment_seconds']} s ({s['effective_seconds']} s used)"
        gflops = "n/a" if s["gflops"] is None else f"{s['gflops']:.2f}"
        lines.append(f"| {s['setting']} | {s['seeds']} | {seg} | " + " | ".join(_pm(s[c]) for c in columns)
                     + f" | {_pm(s['train_seconds'], pct=False)} | {s['params']:,} | {gflops} | {s['paper']} |")
    n = summary[0]["test_tracks"] if summary else 0
    if n and task == "single_label":
        se = 100 * math.sqrt(0.6 * 0.4 / n)
        lines += ["", f"{n} test tracks: one run's standard error of a ~60% track accuracy is about {se:.1f} points."]
    if missing:
        lines += ["", f"Not finished yet ({len(missing)}): {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def plot_results(name, summary, path, scale):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    xlabel = GRIDS[name][1]
    labels = [s["setting"] for s in summary]
    task = summary[0].get("task", "single_label") if summary else "single_label"
    first, _, last = STUDY_KEYS[task]
    series = [(f"track_{first}", f"track {KEY_HEADERS[first]}"), (f"segment_{first}", f"segment {KEY_HEADERS[first]}"),
              (f"track_{last}", f"track {KEY_HEADERS[last]}")]
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(labels) + 3), 4.5))
    if xlabel:
        xs = [s["x"] for s in summary]
        for key, label in series:
            ax.errorbar(xs, [s[key][0] for s in summary], yerr=[s[key][1] or 0 for s in summary], marker="o",
                        capsize=3, label=label)
        ax.set_xlabel(xlabel)
        if name == "slice_length":
            twin = ax.twinx()
            twin.plot(xs, [s["train_seconds"][0] or 0 for s in summary], "k--", marker="s", label="training time")
            twin.set_ylabel("training time (s)")
            twin.legend(loc="lower right", fontsize=8)
    else:
        idx = np.arange(len(labels))
        width = 0.8 / len(series)
        for i, (key, label) in enumerate(series):
            ax.bar(idx + (i - 1) * width, [s[key][0] for s in summary], width,
                   yerr=[s[key][1] or 0 for s in summary], capsize=3, label=label)
        ax.set_xticks(idx, labels, rotation=30, ha="right")
    ax.set_ylabel("test score")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    seeds = summary[0]["seeds"] if summary else 0
    ax.set_title(f"{name} ({'synthetic demo data' if scale != 'full' else 'FMA-small'}; mean ± sd over "
                 f"{seeds} seed(s))")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
