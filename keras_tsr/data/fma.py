"""FMA (Free Music Archive) files: the archives' layout, tracks.csv's metadata and the two split schemes.

Used by the FMA builders in `keras_tsr/datasets/`. File access goes
through `etils.epath`, so the same code reads local folders, zips and cloud
paths, and TFDS' test harness (which patches `os` and `open`) can run it.
"""

from __future__ import annotations

import io
import logging
import pathlib
import threading
import zipfile
from dataclasses import dataclass

import numpy as np

from keras_tsr import audio
from keras_tsr.data import genres, splits
from keras_tsr.errors import ArgumentError, KerasTsrError

log = logging.getLogger(__name__)

NOMINAL_SECONDS = 30.0
SUBSET_ORDER = ("small", "medium", "large")

# FMA's top-level genres as (genre_id, title), from genres.csv. The first eight
# are fma_small's; fma_medium adds eight more.
SMALL_GENRES = ((15, "Electronic"), (38, "Experimental"), (17, "Folk"), (21, "Hip-Hop"), (1235, "Instrumental"),
                (2, "International"), (10, "Pop"), (12, "Rock"))
MEDIUM_EXTRA_GENRES = ((3, "Blues"), (5, "Classical"), (9, "Country"), (13, "Easy Listening"), (4, "Jazz"),
                       (8, "Old-Time / Historic"), (14, "Soul-RnB"), (20, "Spoken"))
SUBSET_GENRES = {"small": SMALL_GENRES, "medium": SMALL_GENRES + MEDIUM_EXTRA_GENRES}


def genre_names(subset: str) -> list[str]:
    """A subset's top genres in label order (alphabetical), as the builders' ClassLabel holds them."""
    if subset not in SUBSET_GENRES:
        raise ArgumentError(f"subset must be one of {tuple(SUBSET_GENRES)}. Received: subset={subset!r}")
    return sorted(title for _, title in SUBSET_GENRES[subset])
EXPECTED_FILES = ("fma_{subset}.zip (or its extracted folder fma_{subset}/)",
                  "fma_metadata.zip (or its extracted folder fma_metadata/ holding tracks.csv)")


class ManualDirError(KerasTsrError, ValueError):
    """The manual directory does not hold the FMA files."""


def _path(p):
    from etils import epath

    return epath.Path(p)


@dataclass
class Track:
    track_id: int
    genre: str
    artist_id: int
    split: str  # official split: training / validation / test
    genres: tuple = ()  # the track's own genre ids (tracks.csv's track/genres)
    genres_all: tuple = ()  # those and their ancestors (track/genres_all)


class FmaSource:
    """Reads FMA audio and metadata from a manual dir holding the zips or their extracted folders.

    Args:
        manual_dir: folder with fma_<subset>.zip and fma_metadata.zip, or
            fma_<subset>/ and fma_metadata/ (a mix works too).
        subset: "small", "medium" or "large".
    """

    def __init__(self, manual_dir, subset="small"):
        if subset not in SUBSET_ORDER:
            raise ArgumentError(f"subset must be one of {SUBSET_ORDER}. Received: subset={subset!r}")
        self.manual_dir = _path(manual_dir)
        self.subset = subset
        expected = "; ".join(e.format(subset=subset) for e in EXPECTED_FILES)
        if not self.manual_dir.exists():
            raise ManualDirError(f"manual_dir {self.manual_dir} does not exist. Expected in it: {expected}. "
                                 f"Download them from https://github.com/mdeff/fma")
        self.audio_zip = self._find(f"fma_{subset}.zip")
        self.audio_dir = self._find(f"fma_{subset}", is_dir=True)
        self.meta_zip = self._find("fma_metadata.zip")
        self.meta_dir = self._find("fma_metadata", is_dir=True)
        missing = []
        if not (self.audio_zip or self.audio_dir):
            missing.append(EXPECTED_FILES[0].format(subset=subset))
        if not (self.meta_zip or (self.meta_dir and (self.meta_dir / "tracks.csv").exists())):
            missing.append(EXPECTED_FILES[1])
        if missing:
            raise ManualDirError(f"{self.manual_dir} lacks: {'; '.join(missing)}. "
                                 f"Put the official FMA downloads there (https://github.com/mdeff/fma).")
        self._local = threading.local()

    def __getstate__(self):  # picklable for Beam workers: open zip handles stay behind
        state = dict(self.__dict__)
        state.pop("_local")
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _find(self, name, is_dir=False):
        p = self.manual_dir / name
        if is_dir:
            return p if p.is_dir() else None
        return p if p.exists() and not p.is_dir() else None

    # -- metadata --------------------------------------------------------
    def read_metadata_file(self, name) -> bytes:
        if self.meta_dir and (self.meta_dir / name).exists():
            return (self.meta_dir / name).read_bytes()
        with zipfile.ZipFile(io.BytesIO(self.meta_zip.read_bytes())) as zf:
            return zf.read(f"fma_metadata/{name}")

    def tracks(self) -> list[Track]:
        """Tracks of the subset with a top genre, from tracks.csv's three-row header."""
        return parse_tracks_csv(self.read_metadata_file("tracks.csv"), self.subset)

    # -- audio -----------------------------------------------------------
    def member(self, track_id: int) -> str:
        return member_path(track_id)

    def audio_file(self, track_id: int) -> pathlib.Path | bytes:
        """The track's mp3: its path in the extracted folder, else its bytes out of the zip (what decode takes)."""
        name = self.member(track_id)
        if self.audio_dir and (self.audio_dir / name).exists():
            return self.audio_dir / name
        return self.read_audio(track_id)

    def read_audio(self, track_id: int) -> bytes:
        name = self.member(track_id)
        if self.audio_dir and (self.audio_dir / name).exists():
            return (self.audio_dir / name).read_bytes()
        if self.audio_zip is None:
            raise FileNotFoundError(f"{self.audio_dir / name} not found")
        zf = getattr(self._local, "zip", None)
        if zf is None:
            # One handle per thread: a ZipFile serialises reads on its handle, and
            # inflating bzip2 members is a good part of the work.
            zf = self._local.zip = zipfile.ZipFile(self.audio_zip.open("rb"))
        try:
            return zf.read(zip_member(self.subset, track_id))
        except KeyError:
            raise FileNotFoundError(f"{self.audio_zip}: no member {zip_member(self.subset, track_id)}") from None


def member_path(track_id: int) -> str:
    """A track's mp3 inside fma_<subset>/: "NNN/NNNNNN.mp3" (the first three digits of the six name the folder)."""
    tid = f"{int(track_id):06d}"
    return f"{tid[:3]}/{tid}.mp3"


def zip_member(subset: str, track_id: int) -> str:
    """A track's member name in fma_<subset>.zip: "fma_<subset>/NNN/NNNNNN.mp3"."""
    return f"fma_{subset}/{member_path(track_id)}"


def download_instructions(subset: str, size: str) -> str:
    """The FMA builders' MANUAL_DOWNLOAD_INSTRUCTIONS."""
    return f"""\
    Download from https://github.com/mdeff/fma and place in `manual_dir`:
      fma_{subset}.zip  ({size})
      fma_metadata.zip  (342 MiB)
    or their extracted folders fma_{subset}/ (NNN/NNNNNN.mp3) and fma_metadata/
    (tracks.csv). Then: tfds build datasets/fma_{subset}_logmel --manual_dir DIR
    (or, from any folder: tfds build fma_{subset}_logmel --imports keras_tsr.datasets --manual_dir DIR)
    """


def parse_tracks_csv(data: bytes, subset: str) -> list[Track]:
    import pandas as pd

    df = pd.read_csv(io.BytesIO(data), index_col=0, header=[0, 1], low_memory=False)
    needed = [("set", "subset"), ("set", "split"), ("track", "genre_top"), ("artist", "id")]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ManualDirError(f"tracks.csv lacks columns {missing}: is it FMA's tracks.csv (three-row header)?")
    # small is part of medium is part of large
    allowed = SUBSET_ORDER[: SUBSET_ORDER.index(subset) + 1]
    df = df[df[("set", "subset")].isin(allowed) & df[("track", "genre_top")].notna()]
    lists = [c for c in (("track", "genres"), ("track", "genres_all")) if c in df.columns]
    return [Track(int(tid), str(row[("track", "genre_top")]), int(row[("artist", "id")]), str(row[("set", "split")]),
                  *(tuple(genres.parse_id_list(row[c])) for c in lists))
            for tid, row in df.iterrows()]


SPLIT_NAMES = {"training": "train", "validation": "validation", "test": "test"}


def official_splits(tracks: list[Track]) -> dict[str, list[Track]]:
    """FMA's artist-filtered split (set/split in tracks.csv)."""
    out = {"train": [], "validation": [], "test": []}
    for t in tracks:
        out[SPLIT_NAMES[t.split]].append(t)
    return out


def paper_splits(tracks: list[Track], seed: int = 42, fractions=(0.8, 0.1, 0.1)) -> dict[str, list[Track]]:
    """The paper's 8:1:1 split by track, stratified by genre, seeded (`keras_tsr.data.splits`' rule).

    Every segment of a track lands in the track's split, so no song is in two splits.
    """
    return splits.stratified_split(tracks, lambda t: t.genre, lambda t: t.track_id, seed, fractions)


SLICE_SECONDS = (3, 5, 6, 10, 12, 15)  # the paper's slice-length study


def segments_per_clip(seconds: float, sample_rate: int = audio.SAMPLE_RATE) -> int:
    """Segments a nominal 30 s clip gives (the paper's N: 19, 11, 9, 5, 4, 3 for 3 ... 15 s)."""
    return audio.num_segments(int(NOMINAL_SECONDS * sample_rate), audio.segment_samples(seconds, sample_rate))


def min_samples(seconds: float, sample_rate: int = audio.SAMPLE_RATE) -> int:
    """Shortest clip that still yields all segments of a nominal 30 s clip."""
    seg = audio.segment_samples(seconds, sample_rate)
    want = segments_per_clip(seconds, sample_rate)
    hop = seg * (1 - audio.OVERLAP)
    # num_segments rounds (L - l) / hop to the nearest integer
    return int(np.ceil(seg + (want - 1.5) * hop))
