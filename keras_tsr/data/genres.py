"""FMA's genre hierarchy (genres.csv) and multi-label genre vectors.

Every FMA genre has a parent chain up to one of 16 roots. A track's `genres` are the ids its artist gave it;
`genres_all` adds every ancestor of those (FMA's own tracks.csv column). A multi-label dataset stores both as
multi-hot vectors over a *vocabulary*: the genres present in the subset's `genres_all`, in genre-id order.

Two files ship with the package, from FMA's fma_metadata.zip (CC BY 4.0, mdeff/fma): `fma_genres.csv`, the genre
table, and `fma_small_labels.csv.gz`, FMA-small's real labels (track_id, split, genre_top, genres; 7,994 tracks,
3,739 with more than one genre), which the synthetic fixtures draw their label lists from so that their label
statistics are FMA's.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import functools
import gzip
import io
import os

import numpy as np

from keras_tsr.errors import ArgumentError

_HERE = os.path.dirname(os.path.abspath(__file__))
GENRES_CSV = os.path.join(_HERE, "fma_genres.csv")
SMALL_LABELS = os.path.join(_HERE, "fma_small_labels.csv.gz")


@dataclasses.dataclass(frozen=True)
class Genre:
    id: int
    title: str
    parent: int  # 0 for a root
    top_level: int


class GenreTree:
    """genres.csv read once: titles, parents and the roots of every genre id."""

    def __init__(self, genres: dict[int, Genre]):
        self.genres = genres

    @classmethod
    def from_csv(cls, data: bytes | str) -> GenreTree:
        text = data.decode() if isinstance(data, bytes) else data
        out = {}
        for row in csv.DictReader(io.StringIO(text)):
            try:
                g = Genre(int(row["genre_id"]), row["title"], int(row["parent"] or 0), int(row["top_level"]))
            except (KeyError, ValueError):
                raise ArgumentError("genres.csv: expected FMA's columns genre_id, parent, title, top_level") from None
            out[g.id] = g
        return cls(out)

    def ancestors(self, genre_id: int) -> list[int]:
        """The genre's parents up to its root (nearest first), without the genre itself."""
        out, seen = [], {genre_id}
        parent = self.genres[genre_id].parent if genre_id in self.genres else 0
        while parent and parent not in seen:  # genres.csv has no cycle; a damaged copy must not hang
            out.append(parent)
            seen.add(parent)
            parent = self.genres[parent].parent if parent in self.genres else 0
        return out

    def expand(self, genre_ids) -> list[int]:
        """`genres_all` of `genres`: the ids and all their ancestors, sorted."""
        out = set()
        for g in genre_ids:
            out.add(int(g))
            out.update(self.ancestors(int(g)))
        return sorted(out)

    def describe(self, genre_ids) -> list[dict]:
        """id, title, parent and root of each id (what a dataset's info and a model's metadata carry)."""
        return [{"id": int(g), "title": self.title(g), "parent": self.genres[g].parent if g in self.genres else 0,
                 "top_level": self.genres[g].top_level if g in self.genres else int(g)} for g in genre_ids]

    def title(self, genre_id: int) -> str:
        g = self.genres.get(int(genre_id))
        return g.title if g else f"genre {genre_id}"


@functools.cache
def fma_tree() -> GenreTree:
    """FMA's genre table as shipped with the package (the genres.csv of fma_metadata.zip)."""
    with open(GENRES_CSV, "rb") as f:
        return GenreTree.from_csv(f.read())


def parse_id_list(text) -> list[int]:
    """tracks.csv's "[12, 45]" (or "[]", or empty) -> [12, 45]."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or str(text).strip() in ("", "[]"):
        return []
    try:
        return [int(v) for v in ast.literal_eval(str(text))]
    except (ValueError, SyntaxError, TypeError):
        raise ArgumentError(f"tracks.csv: {text!r} is not a list of genre ids like [12, 45]") from None


def multi_hot(genre_ids, vocabulary) -> np.ndarray:
    """A uint8 vector over `vocabulary` (genre ids) with ones at `genre_ids` (ids outside it are left out)."""
    index = {g: i for i, g in enumerate(vocabulary)}
    out = np.zeros(len(vocabulary), np.uint8)
    for g in genre_ids:
        if g in index:
            out[index[g]] = 1
    return out


@functools.cache
def small_label_lists() -> dict[str, list[tuple[int, list[int]]]]:
    """genre_top -> [(real track id, its genres)] of FMA-small's real labels (the package's copy)."""
    out: dict[str, list] = {}
    with gzip.open(SMALL_LABELS, "rt") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["genre_top"], []).append((int(row["track_id"]), parse_id_list(row["genres"])))
    return out
