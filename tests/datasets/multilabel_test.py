"""The multi-label configuration: FMA's genre lists as multi-hot vectors, and the hierarchy they come from."""

import csv
import gzip

import numpy as np
import pytest

pytestmark = pytest.mark.backend_independent


def _parents():
    """genre id -> parent id, read here from the package's copy of FMA's genres.csv (the test's own reading)."""
    from keras_tsr.data import genres

    with open(genres.GENRES_CSV) as f:
        return {int(r["genre_id"]): int(r["parent"]) for r in csv.DictReader(f)}


def _with_ancestors(ids, parents):
    out = set()
    for g in ids:
        while g:
            out.add(g)
            g = parents.get(g, 0)
    return out


def test_the_genre_tree_expands_to_the_roots_and_the_labels_are_fmas():
    from keras_tsr.data import genres

    tree = genres.fma_tree()
    assert len(tree.genres) == 163 and sum(g.parent == 0 for g in tree.genres.values()) == 16
    assert tree.expand([1]) == [1, 38]  # Avant-Garde < Experimental
    assert tree.expand([12, 45]) == sorted(_with_ancestors([12, 45], _parents()))
    lists = genres.small_label_lists()
    rows = [ids for v in lists.values() for _, ids in v]
    assert len(rows) == 7994 and sum(len(ids) > 1 for ids in rows) == 3739  # FMA-small's real statistics
    assert len({g for ids in rows for g in ids}) == 113
    assert genres.parse_id_list("[12, 45]") == [12, 45] and genres.parse_id_list("[]") == []


def test_the_builders_multi_hot_vectors_are_what_genres_csv_implies(multilabel_dataset):
    """Each built track's `genres` and `genres_all` equal, over the info's vocabulary, the real FMA-small track's
    genre list its labels were drawn from and that list closed under genres.csv's parents."""
    import tensorflow_datasets as tfds

    import keras_tsr.datasets  # noqa: F401 - registers the builders

    data_dir, fixture = multilabel_dataset
    real = {}
    from keras_tsr.data import genres

    with gzip.open(genres.SMALL_LABELS, "rt") as f:
        for row in csv.DictReader(f):
            real[int(row["track_id"])] = [int(v) for v in row["genres"].strip("[]").split(",") if v.strip()]
    parents = _parents()
    builder = tfds.builder("fma_small_logmel/clip_multilabel", data_dir=str(data_dir))
    vocabulary = [g["id"] for g in builder.info.metadata["genre_vocabulary"]]
    assert vocabulary == sorted(vocabulary) and all(g["parent"] in vocabulary or g["parent"] == 0
                                                   for g in builder.info.metadata["genre_vocabulary"])
    assert builder.info.metadata["task"] == "multilabel"
    by_id = {t["track_id"]: t for t in fixture["tracks"]}
    seen = multi = 0
    for split in ("train", "validation", "test"):
        for ex in builder.as_data_source(split):
            source = by_id[int(ex["track_id"])]["label_source"]
            own = real[source]
            expect_own = np.isin(vocabulary, own).astype(np.uint8)
            expect_all = np.isin(vocabulary, sorted(_with_ancestors(own, parents))).astype(np.uint8)
            np.testing.assert_array_equal(ex["genres"], expect_own)
            np.testing.assert_array_equal(ex["genres_all"], expect_all)
            seen += 1
            multi += int(len(own) > 1)
    assert seen == 96 and multi > 10  # FMA's share of multi-genre tracks is 47%


def test_balanced_weights_are_sqrt_negatives_over_positives_of_the_training_split(multilabel_dataset):
    """What --class-weight balanced trains with: each genre's sqrt(negatives / positives) over the training
    split's tracks (between 1 and 10), from the counts the build records, equal to a count of the examples."""
    import tensorflow_datasets as tfds

    import keras_tsr.datasets  # noqa: F401 - registers the builders
    from keras_tsr.datasets.handle import DatasetHandle

    data_dir = str(multilabel_dataset[0])
    handle = DatasetHandle("fma_small_logmel/clip_multilabel", data_dir, loader="grain")
    weights = np.asarray(handle.positive_weights("train"))
    rows = np.stack([ex["genres_all"] for ex in tfds.builder("fma_small_logmel/clip_multilabel",
                                                                 data_dir=data_dir).as_data_source("train")])
    positives = rows.sum(0).astype(float)
    expect = np.clip(np.sqrt((len(rows) - positives) / np.maximum(positives, 1)), 1, 10)
    np.testing.assert_allclose(weights, expect, atol=1e-4)
    assert weights.max() > 2 and weights.min() >= 1  # rare genres weigh more; none less than its negatives
    both = np.asarray(handle.positive_weights("train+validation"))
    assert both.shape == weights.shape and not np.allclose(both, weights)
