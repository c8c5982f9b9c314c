"""k-fold cross-validation on a folder of your own music: `tsr cv DIR --folds 5 --architecture demo`.

Builds (once) the folder's `genre_folder_logmel/clip_folds` dataset (ten
stratified folds by file), then for each of the k folds trains on the other
k-1 folds with a fixed schedule (the small-data recipe; the last epoch is
kept, so no checkpoint is chosen on data the test fold could inform) and
tests on the held-out fold; with `--seeds N` (5 by default) N models a fold,
their segment probabilities averaged (an ensemble; OUT/foldK, OUT/foldK_seed1,
...; the ensemble's metrics in OUT/foldK_ensemble.json). `--augment none`
trains as before the recipe existed: k-2 folds, the best checkpoint on the
next fold, one model.
Writes OUT/cv_results.json, OUT/cv_results.md (per fold and mean ± sd of
track and segment accuracy, the paper's Eq. 10 average accuracy and macro F1)
and OUT/confusion_matrix.png (test tracks of all folds together). Each fold is
an ordinary training workdir (OUT/foldK), so a rerun resumes.
"""

from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from keras_tsr import defaults
from keras_tsr.errors import ArgumentError
from keras_tsr.evaluate.metrics import KEY_HEADERS, STUDY_KEYS, study_keys
from keras_tsr.utils import mean_sd, save_figure, write_json_atomic, write_text_atomic

log = logging.getLogger("keras_tsr.cv")

DATASET = "genre_folder_logmel/clip_folds"
MULTILABEL_DATASET = "genre_folder_logmel/clip_multilabel_folds"  # a folder with labels.csv / labels.json
LEVELS = ("track", "segment")
KEYS = STUDY_KEYS["single_label"]


def prepare(folder, data_dir, dataset=DATASET):
    """Builds the folder's folds once into `data_dir`; refuses a data dir built from another folder."""
    from keras_tsr.datasets import pipeline as data

    stamp = os.path.join(data_dir, "keras_tsr_source.json")
    source = os.path.realpath(folder)
    if data.is_prepared(dataset, data_dir):
        if os.path.exists(stamp):
            with open(stamp) as f:
                built_from = json.load(f)["folder"]
            if built_from != source:
                raise ArgumentError(f"{data_dir} holds the folds of {built_from}, not of {source}: use another --out")
        return data_dir
    log.info("building %s from %s into %s", dataset, folder, data_dir)
    name, _, config = dataset.partition("/")
    data.build(folder, config, data_dir, name=name)
    os.makedirs(data_dir, exist_ok=True)
    write_json_atomic(stamp, {"folder": source})
    return data_dir


# The defaults of `tsr cv` (keras_tsr.defaults): what measured best on real music (scripts/bench_real.py).
DEFAULT_RECIPE = defaults.CV_RECIPE
DEFAULT_PROTOCOL = defaults.CV_PROTOCOL
DEFAULT_SEGMENT_SECONDS = defaults.CV_SEGMENT_SECONDS
DEFAULT_OVERLAP = defaults.CV_OVERLAP
DEFAULT_BATCH_SIZE = defaults.CV_BATCH_SIZE
PAPER_BATCH_SIZE = defaults.CV_PAPER_BATCH_SIZE
DEFAULT_EPOCHS = defaults.CV_EPOCHS
DEFAULT_SEEDS = defaults.CV_SEEDS
PAPER_PROTOCOL = defaults.CV_PAPER_PROTOCOL


def resolve_recipe(recipe=None, protocol=None, segment_seconds=None, epochs=None, preset="demo", overlap=None,
                   batch_size=None, seeds=None):
    """The training of a cross-validation run: a dict of recipe options, protocol, segment_seconds, overlap,
    epochs, batch_size and seeds (models a fold).

    With no recipe options, or any but `augment` "none", the measured defaults above fill in what is not
    given; with `augment` "none", the paper's training: a validation fold, the best checkpoint, Adam at a
    constant rate, 12 s segments at 50% overlap, batch 16 and the preset's usual epochs.
    """
    from keras_tsr.defaults import DEMO_EPOCHS, PAPER_EPOCHS

    recipe = dict(recipe or {})
    if recipe.get("augment") == "none":
        return {"recipe": recipe, "protocol": protocol or PAPER_PROTOCOL, "segment_seconds": segment_seconds,
                "overlap": overlap, "epochs": epochs or (DEMO_EPOCHS if preset == "demo" else PAPER_EPOCHS),
                "batch_size": batch_size or PAPER_BATCH_SIZE, "seeds": seeds or 1}
    protocol = protocol or DEFAULT_PROTOCOL
    defaults = dict(DEFAULT_RECIPE)
    if protocol == "val_fold":
        defaults["checkpoint"] = "best"
    return {"recipe": {**defaults, **recipe}, "protocol": protocol,
            "segment_seconds": segment_seconds or DEFAULT_SEGMENT_SECONDS,
            "overlap": DEFAULT_OVERLAP if overlap is None else overlap, "epochs": epochs or DEFAULT_EPOCHS,
            "batch_size": batch_size or DEFAULT_BATCH_SIZE, "seeds": seeds or DEFAULT_SEEDS}


def cross_validate(folder, out="runs/cv", folds=5, preset="demo", epochs=None, batch_size=None, seed=0,
                   segment_seconds=None, echo=print, protocol=None, recipe=None, overlap=None, seeds=None,
                   multilabel=None):
    """Runs (or resumes) the k folds; returns the summary written to cv_results.json.

    `multilabel`: the folder's genres come from its labels.csv / labels.json (or its files' genre tags) and each
    fold trains a multi-label model (`keras_tsr.data.labels`); None: so when the folder has a labels file.

    `recipe`: TrainConfig's recipe fields (augment, schedule, ...); see `resolve_recipe` for the defaults.
    `seeds`: models trained a fold (seeds seed, seed+1, ...), their segment probabilities averaged on the test
    fold (an ensemble; default `DEFAULT_SEEDS` with the recipe, 1 with `augment` "none").
    """
    import keras

    from keras_tsr.data import folders, labels
    from keras_tsr.evaluate import evaluate_ensemble
    from keras_tsr.train import TrainConfig, train_and_evaluate
    from keras_tsr.utils import check_writable

    check_writable(out, "folder", "--out")
    t = resolve_recipe(recipe, protocol, segment_seconds, epochs, preset, overlap, batch_size, seeds)
    folders.cv_splits(0, folds, protocol=t["protocol"])  # a clear error for an unsupported k before any work
    multilabel = bool(labels.label_file(folder)) if multilabel is None else multilabel
    purpose = f"{folds}-fold cross-validation"
    if multilabel:  # a clear error for unknown files, empty genre lists and genres too rare for the folds
        files = labels.scan_labelled(folder, folds, purpose)[0]
    else:
        files = folders.scan(folder)  # and for a folder without genre folders
    folders.check_enough(files, folders.stratified_folds(files), folders.unreadable(files),
                         1 if multilabel else folds, purpose, folder)  # and for one too small for its folds
    dataset = MULTILABEL_DATASET if multilabel else DATASET
    data_dir = prepare(folder, os.path.abspath(os.path.join(out, "tfds")), dataset)  # workdirs open from anywhere
    start = time.time()
    per_fold = []
    for k in range(folds):
        workdirs = []
        for s in range(t["seeds"]):
            config = TrainConfig(dataset=dataset, data_dir=data_dir, preset=preset, epochs=t["epochs"],
                                 batch_size=t["batch_size"], seed=seed + s, segment_seconds=t["segment_seconds"],
                                 overlap=t["overlap"], splits=folders.cv_splits(k, folds, protocol=t["protocol"]),
                                 **t["recipe"])
            workdirs.append(fold_workdir(out, k, s))
            metrics = train_and_evaluate(config, workdirs[-1])
            keras.backend.clear_session()
        if len(workdirs) > 1:
            metrics = evaluate_ensemble(workdirs)
            write_json_atomic(os.path.join(out, f"fold{k}_ensemble.json"), metrics)
        per_fold.append(metrics)
        members = metrics.get("members", {}).get("track_accuracy")
        key = study_keys(metrics)[0]
        echo(f"fold {k + 1}/{folds}: track {key} {metrics['track'].get(key, float('nan')):.3f}, segment {key} "
             f"{metrics['segment'].get(key, float('nan')):.3f} ({metrics['track']['n']} test files)"
             + (f"; an ensemble of {len(members)} seeds, each alone " + ", ".join(f"{a:.3f}" for a in members)
                if members else ""))
    summary = summarise(per_fold, folds, preset, os.path.realpath(folder), time.time() - start)
    summary["training"] = {k: v for k, v in t.items() if k != "recipe"} | t["recipe"] | {"seed": seed}
    write(summary, out)
    return summary


def fold_workdir(out, fold, member=0):
    """The workdir of a fold's model (`member` > 0: the ensemble's further seeds)."""
    return os.path.join(out, f"fold{fold}" if member == 0 else f"fold{fold}_seed{member}")


def summarise(per_fold, folds, preset, folder, seconds):
    names = per_fold[0]["class_names"]
    multilabel = per_fold[0].get("task") == "multilabel"
    keys = study_keys(per_fold[0])
    out = {"folder": folder, "folds": folds, "preset": preset, "class_names": names,
           "task": "multilabel" if multilabel else "single_label", "keys": list(keys),
           "wall_seconds": round(seconds, 1), "per_fold": [], "mean": {}, "sd": {}}
    for m in per_fold:
        # a genre absent from a fold's test files (both ways) has no ROC-AUC there: NaN, left out of the mean
        out["per_fold"].append({lvl: {k: m[lvl].get(k, float("nan")) for k in (*keys, "n")} for lvl in LEVELS})
        if "members" in m:  # an ensemble: each seed's own track accuracy
            out["per_fold"][-1]["members_track_accuracy"] = m["members"]["track_accuracy"]
    for lvl in LEVELS:
        for k in keys:
            out["mean"][f"{lvl}_{k}"], out["sd"][f"{lvl}_{k}"] = mean_sd(
                [f[lvl][k] for f in out["per_fold"] if not np.isnan(f[lvl][k])])
    if not multilabel:
        out["confusion_matrix"] = np.sum([m["track"]["confusion_matrix"] for m in per_fold], axis=0).tolist()
    return out


def write(summary, out):
    os.makedirs(out, exist_ok=True)
    write_json_atomic(os.path.join(out, "cv_results.json"), summary)
    keys = summary.get("keys", KEYS)
    meaning = ("ROC-AUC: macro ROC-AUC over the genres; AP: macro average precision; micro-F1 at the decision "
               "threshold (0.5 without a validation fold)" if summary.get("task") == "multilabel" else
               "acc: plain accuracy; Eq.10: the TS-Resformer paper's average accuracy (1 - 2 (1 - acc) / k); F1: "
               "macro F1")
    lines = [f"# {summary['folds']}-fold cross-validation of `{summary['preset']}` on {summary['folder']}", "",
             f"Per fold: test files of that fold; track level averages a file's segment probabilities. {meaning}.",
             "", "| fold | files | " + " | ".join(f"{lvl} {KEY_HEADERS[k]}" for lvl in LEVELS for k in keys) + " |",
             "|---|---|" + "---|" * (len(LEVELS) * len(keys))]
    for i, f in enumerate(summary["per_fold"]):
        cells = " | ".join(f"{100 * f[lvl][k]:.1f}" for lvl in LEVELS for k in keys)
        lines.append(f"| {i} | {f['track']['n']} | {cells} |")
    cells = []
    for lvl in LEVELS:
        for k in keys:
            mean, sd = summary["mean"][f"{lvl}_{k}"], summary["sd"][f"{lvl}_{k}"]
            cells.append(f"{100 * mean:.1f}" + ("" if sd is None else f" ± {100 * sd:.1f}"))
    lines.append(f"| mean ± sd | | {' | '.join(cells)} |")
    lines += ["", f"Wall time: {summary['wall_seconds'] / 60:.1f} min."]
    write_text_atomic(os.path.join(out, "cv_results.md"), "\n".join(lines) + "\n")
    if "confusion_matrix" in summary:
        plot_confusion(summary, os.path.join(out, "confusion_matrix.png"))


def plot_confusion(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    names = summary["class_names"]
    fig, ax = plt.subplots(figsize=(1.0 * len(names) + 3, 0.9 * len(names) + 2.5))
    ConfusionMatrixDisplay(np.asarray(summary["confusion_matrix"]), display_labels=names).plot(
        ax=ax, cmap="Blues", colorbar=False, xticks_rotation=45)
    ax.set_title(f"{summary['folds']}-fold cross-validation, test files of all folds\n"
                 f"track accuracy {summary['mean']['track_accuracy']:.3f} (mean over folds)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
