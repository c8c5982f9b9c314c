"""Multi-label genre metrics, from scikit-learn: what music tagging reports, and the genre hierarchy's view.

- macro and micro ROC-AUC, macro and micro average precision (PR-AUC): threshold-free ranking quality;
- micro and macro F1 at one decision threshold, tuned on the validation split (`tune_threshold`);
- per-genre average precision and support;
- hierarchical precision, recall and F1: a predicted genre counts with all its ancestors (FMA's genres.csv), and
  is compared with the track's `genres_all` (its genres with their ancestors);
- top-level genre accuracy: the most probable of the root genres against the track's `genre_top`, the figure a
  single-label model reports (comparable with its track accuracy).

Genres without a positive (or without a negative) in the evaluated split have no ROC-AUC and are left out of the
macro averages; `genres_evaluated` says how many counted. Track level averages the segment probabilities of each
track, as prediction does.
"""

from __future__ import annotations

import numpy as np

THRESHOLDS = np.round(np.arange(0.02, 0.99, 0.01), 2)
# Bootstrap draws of the multi-label intervals at most: each draw runs scikit-learn's ROC and PR curves once a
# genre (about 30 ms a draw for 25 genres on this machine, where one draw of the single-label metrics takes 1 ms)
MAX_BOOT = 200


def headline(y, probs, threshold) -> dict:
    """macro ROC-AUC, macro average precision (over the genres with both classes present) and micro-F1 of boolean
    targets `y` (n, genres): what the bootstrap resamples."""
    from sklearn import metrics as skm

    ranked = y.any(0) & (~y).any(0)  # a ROC curve needs both classes
    out = {}
    if ranked.any():
        out["macro_roc_auc"] = float(skm.roc_auc_score(y[:, ranked], probs[:, ranked], average="macro"))
        out["macro_average_precision"] = float(skm.average_precision_score(y[:, ranked], probs[:, ranked],
                                                                           average="macro"))
    out["micro_f1"] = float(skm.f1_score(y, probs >= threshold, average="micro", zero_division=0))
    return out


def scores(y_true, probs, threshold) -> dict:
    """The threshold-free and thresholded scores of (n, genres) 0/1 targets and probabilities."""
    from sklearn import metrics as skm

    y = np.asarray(y_true) > 0.5
    probs = np.asarray(probs, np.float64)
    positives, negatives = y.sum(0), (~y).sum(0)
    ranked = (positives > 0) & (negatives > 0)  # a ROC curve needs both classes
    pred = probs >= threshold
    out = {"n": int(len(y)), "genres_evaluated": int(ranked.sum()), "threshold": float(threshold)}
    out.update(headline(y, probs, threshold))
    if y.any() and (~y).any():
        out["micro_roc_auc"] = float(skm.roc_auc_score(y.ravel(), probs.ravel()))
        out["micro_average_precision"] = float(skm.average_precision_score(y.ravel(), probs.ravel()))
    present = positives > 0
    out["macro_f1"] = float(skm.f1_score(y[:, present], pred[:, present], average="macro", zero_division=0)) \
        if present.any() else 0.0
    out["per_genre_average_precision"] = [
        float(skm.average_precision_score(y[:, j], probs[:, j])) if ranked[j] else None for j in range(y.shape[1])]
    out["support"] = [int(v) for v in positives]
    out["labels_per_example"] = {"true": float(y.sum(1).mean()) if len(y) else 0.0,
                                 "predicted": float(pred.sum(1).mean()) if len(y) else 0.0}
    return out


def tune_threshold(y_true, probs) -> float:
    """The decision threshold that maximises micro-F1 on (validation) targets and probabilities."""
    from sklearn import metrics as skm

    y = np.asarray(y_true) > 0.5
    f1 = [skm.f1_score(y, np.asarray(probs) >= t, average="micro", zero_division=0) for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.argmax(f1))])


def bootstrap_intervals(y_true, probs, groups, threshold, n_boot=1000, seed=0, level=0.95) -> dict:
    """95% intervals of macro ROC-AUC, macro average precision and micro F1, resampling tracks (`groups`) with
    replacement, as the single-label metrics' intervals do."""
    y, probs, groups = np.asarray(y_true) > 0.5, np.asarray(probs), np.asarray(groups)
    tracks = np.unique(groups)
    rows = [np.flatnonzero(groups == t) for t in tracks]
    rng = np.random.default_rng(seed)
    draws = {"macro_roc_auc": [], "macro_average_precision": [], "micro_f1": []}
    for _ in range(n_boot):
        idx = np.concatenate([rows[i] for i in rng.integers(0, len(tracks), len(tracks))])
        s = headline(y[idx], probs[idx], threshold)
        for k in draws:
            if k in s:
                draws[k].append(s[k])
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {k: [float(np.percentile(v, lo)), float(np.percentile(v, hi))] for k, v in draws.items() if v}


def ancestor_matrix(vocabulary) -> np.ndarray:
    """(genres, genres) bool: row i marks genre i and every ancestor of it that is in the vocabulary."""
    index = {g["id"]: i for i, g in enumerate(vocabulary)}
    parent = {g["id"]: g["parent"] for g in vocabulary}
    out = np.eye(len(vocabulary), dtype=bool)
    for g in vocabulary:
        p, seen = parent.get(g["id"], 0), set()
        while p and p in index and p not in seen:
            out[index[g["id"]], index[p]] = True
            seen.add(p)
            p = parent.get(p, 0)
    return out


def hierarchical_scores(y_true_all, probs, threshold, vocabulary) -> dict:
    """Hierarchical precision, recall and F1 (micro over examples): predictions expanded to their ancestors,
    against targets that already hold theirs (`genres_all`)."""
    up = ancestor_matrix(vocabulary)
    pred = (np.asarray(probs) >= threshold).astype(np.int64) @ up.astype(np.int64) > 0
    truth = np.asarray(y_true_all) > 0.5
    hits = float((pred & truth).sum())
    precision = hits / pred.sum() if pred.sum() else 0.0
    recall = hits / truth.sum() if truth.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"hierarchical_precision": float(precision), "hierarchical_recall": float(recall),
            "hierarchical_f1": float(f1)}


def top_level_accuracy(probs, top_genres, vocabulary) -> dict | None:
    """The most probable root genre against each example's genre_top (titles): the single-label model's question
    asked of the multi-label one. None when the vocabulary holds no root genre."""
    roots = [i for i, g in enumerate(vocabulary) if not g["parent"]]
    if not roots:
        return None
    names = np.asarray([vocabulary[i]["title"] for i in roots])
    guess = names[np.asarray(probs)[:, roots].argmax(1)]
    return {"top_level_accuracy": float(np.mean(guess == np.asarray(top_genres))), "root_genres": names.tolist()}
