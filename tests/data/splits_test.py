"""The one stratified split rule, checked against counts worked out by hand."""

import dataclasses

import pytest

from keras_tsr.data import splits

pytestmark = pytest.mark.backend_independent


@dataclasses.dataclass(frozen=True)
class Item:
    id: int
    genre: str


def _items(counts):
    out, k = [], 0
    for genre, n in counts.items():
        out += [Item(k + i, genre) for i in range(n)]
        k += n
    return out


def _split(items, seed=42):
    return splits.stratified_split(items, lambda t: t.genre, lambda t: t.id, seed)


def test_sizes_per_genre_follow_the_rule():
    # round(0.1 n) each for validation and test, at least one from three items up: 100 -> 80/10/10,
    # 15 -> 11/2/2 (round(1.5) = 2), 3 -> 1/1/1, 2 -> 2/0/0.
    out = _split(_items({"a": 100, "b": 15, "c": 3, "d": 2}))
    sizes = {k: {g: sum(t.genre == g for t in v) for g in "abcd"} for k, v in out.items()}
    assert sizes == {"train": {"a": 80, "b": 11, "c": 1, "d": 2}, "validation": {"a": 10, "b": 2, "c": 1, "d": 0},
                     "test": {"a": 10, "b": 2, "c": 1, "d": 0}}


def test_split_is_a_seeded_partition_sorted_by_id():
    items = _items({"a": 30, "b": 20})
    out = _split(items)
    ids = [t.id for v in out.values() for t in v]
    assert sorted(ids) == list(range(50))  # every item once
    assert all([t.id for t in v] == sorted(t.id for t in v) for v in out.values())
    assert out == _split(list(reversed(items)))  # input order does not matter
    assert out != _split(items, seed=1)


def test_folds_hold_each_genre_in_equal_shares():
    out = splits.stratified_folds(_items({"a": 20, "b": 13}), lambda t: t.genre, lambda t: t.id, seed=0)
    assert [sum(t.genre == "a" for t in v) for v in out.values()] == [2] * 10
    assert sorted(sum(t.genre == "b" for t in v) for v in out.values()) == [1] * 7 + [2] * 3
    assert sorted(len(v) for v in out.values()) == [3] * 7 + [4] * 3
