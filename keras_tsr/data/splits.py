"""Splits by track (never by segment): the seeded stratified 8:1:1 split and the stratified folds.

One rule for FMA's paper split and for a folder of genre folders: within each genre (in sorted order), a
seeded permutation of its items (sorted by id) gives the first round(0.1 n) to test, the next round(0.1 n) to
validation and the rest to train; a genre of three or more items gets at least one test and one validation
item.
"""

from __future__ import annotations

import numpy as np

NUM_FOLDS = 10


def _by_genre(items, genre_of, id_of):
    groups = {}
    for item in sorted(items, key=id_of):
        groups.setdefault(genre_of(item), []).append(item)
    return {g: groups[g] for g in sorted(groups)}


def stratified_split(items, genre_of, id_of, seed=42, fractions=(0.8, 0.1, 0.1)):
    """{"train", "validation", "test"} -> items, each sorted by id (see the module docstring for the rule)."""
    rng = np.random.default_rng(seed)
    out = {"train": [], "validation": [], "test": []}
    for group in _by_genre(items, genre_of, id_of).values():
        n = len(group)
        n_val = max(1 if n >= 3 else 0, int(round(n * fractions[1])))
        n_test = max(1 if n >= 3 else 0, int(round(n * fractions[2])))
        for rank, i in enumerate(rng.permutation(n)):
            split = "test" if rank < n_test else "validation" if rank < n_test + n_val else "train"
            out[split].append(group[i])
    return {k: sorted(v, key=id_of) for k, v in out.items()}


def stratified_folds(items, genre_of, id_of, seed=42, num_folds=NUM_FOLDS):
    """Items dealt into `num_folds` folds ("fold0" ...) genre by genre after a seeded shuffle: every fold holds
    each genre's items in equal shares (within one)."""
    rng = np.random.default_rng(seed)
    out = {f"fold{k}": [] for k in range(num_folds)}
    offset = 0
    for group in _by_genre(items, genre_of, id_of).values():
        for rank, i in enumerate(rng.permutation(len(group))):
            out[f"fold{(rank + offset) % num_folds}"].append(group[i])
        offset += len(group)  # continue dealing where the last genre stopped, so fold sizes stay even
    return {k: sorted(v, key=id_of) for k, v in out.items()}
