"""Synthetic, FMA-shaped dataset: the test fixture and the built-in demo.

`tsr synth-fma --out DIR --tracks-per-genre N` (or `python -m keras_tsr synth-fma ...`)
writes, like the official archives:

    DIR/fma_small.zip      fma_small/NNN/NNNNNN.mp3 (bzip2 members), checksums, README.txt
    DIR/fma_metadata.zip   fma_metadata/tracks.csv (three-row header), genres.csv, checksums, README.txt
    DIR/fixture.json       what was written: tracks, broken files and why they are broken

With `--subset medium` it writes fma_medium.zip with 16 genres instead.

Each track is 30 s of generated music (`keras_tsr.data.synth_music`). Formats vary as in
FMA: mostly 44.1 kHz stereo, some 48 kHz, 22.05 kHz and mono, lengths around
29.98 s; a few files are broken (empty, truncated, 5 s long, not audio). All
audio is generated here: nothing copyrighted.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from keras_tsr.data.fma import SMALL_GENRES, member_path
from keras_tsr.data.fma import SUBSET_GENRES as SUBSETS
from keras_tsr.data.synth_music import SR, render
from keras_tsr.errors import ArgumentError, OutputExistsError
from keras_tsr.utils import atomic_path, write_json_atomic

log = logging.getLogger(__name__)

BROKEN_KINDS = ("empty", "truncated", "short", "not_audio")


def _encode_mp3(x: np.ndarray, sr: int, compact: bool = False, fma_bitrate: bool = False) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    if fma_bitrate:
        # 256 kbps constant (libsndfile maps compression level 0.2 to it at 44.1/48 kHz): most of FMA's mp3s are
        # 256 or 320 kbps (fma_small.zip: 7.2 GiB for 8,000 clips of 30 s, about 260 kbps), so decoding and the
        # zip's bzip2 inflation cost what they cost on the real files
        kw = {"compression_level": 0.2, "bitrate_mode": "CONSTANT"}
    elif compact:  # small files for checked-in test data
        kw = {"compression_level": 0.9, "bitrate_mode": "CONSTANT"}
    else:  # 0.9 (about 110 kbps VBR) encodes 20% faster than libsndfile's default: the demo's first run is shorter
        kw = {"compression_level": 0.9}
    sf.write(buf, x, sr, format="MP3", **kw)
    return buf.getvalue()


def _plan(tracks_per_genre, subset, seed, broken, compact=False, fma_bitrate=False, mono_fraction=0.1):
    """Track ids, genres, artists, official split, format and breakage of every track (its genre list:
    `_label_lists`)."""
    rng = np.random.default_rng(seed)
    genres = SUBSETS[subset]
    n_total = tracks_per_genre * len(genres) + (len(BROKEN_KINDS) if broken else 0)
    ids = np.sort(rng.choice(np.arange(2, 155_320), size=n_total + 6, replace=False))
    rng.shuffle(ids)
    tracks, k, next_artist = [], 0, 1
    for gid, title in genres:
        n_test = max(1, round(0.1 * tracks_per_genre))
        n_val = max(1, round(0.1 * tracks_per_genre))
        for j in range(tracks_per_genre):
            split = "test" if j < n_test else "validation" if j < n_test + n_val else "training"
            if split == "training" and j % 2 == 1:
                artist = next_artist - 1  # two training tracks share an artist
            else:
                artist = next_artist
                next_artist += 1
            tracks.append(dict(track_id=int(ids[k]), genre=title, genre_id=gid, artist_id=artist, split=split,
                               broken=None))
            k += 1
    if broken:
        for j, kind in enumerate(BROKEN_KINDS):
            gid, title = genres[j % len(genres)]
            tracks.append(dict(track_id=int(ids[k]), genre=title, genre_id=gid, artist_id=next_artist,
                               split="training", broken=kind))
            next_artist += 1
            k += 1
    extra = [dict(track_id=int(i), genre="Rock", genre_id=12, artist_id=next_artist, split="training",
                  broken=None, not_in_subset=True) for i in ids[k:k + 6]]
    for n, t in enumerate(tracks):
        fmt = rng.random()
        t["sample_rate"] = 48000 if fmt < 0.1 else 22050 if fmt < 0.15 else SR
        t["channels"] = 1 if rng.random() < mono_fraction else 2
        if compact:  # small files for checked-in test data
            t["sample_rate"], t["channels"], t["compact"] = (22050 if n % 3 else 16000), 1, True
        t["fma_bitrate"] = bool(fma_bitrate)
        t["seconds"] = float(rng.uniform(29.95, 30.02))
        t["seed"] = int(seed * 1_000_003 + t["track_id"])
    _label_lists(tracks + extra, seed)
    return sorted(tracks, key=lambda t: t["track_id"]), extra


def _label_lists(tracks, seed):
    """Each track's `genres`: the genre list of a real FMA-small track of its top genre (FMA's label statistics:
    47% of the tracks carry more than one genre), that track's id kept as `label_source`; genres FMA-small lacks
    (medium's) get their top genre alone. `genres_all` adds the ancestors from genres.csv. Drawn from a generator
    of their own, so the audio and formats stay what the seed gave before."""
    from keras_tsr.data import genres as genre_table

    rng = np.random.default_rng([seed, 31])
    real = genre_table.small_label_lists()
    for t in tracks:
        rows = real.get(t["genre"])
        if rows:
            source, ids = rows[int(rng.integers(len(rows)))]
        else:
            source, ids = None, [t["genre_id"]]
        t["genres"], t["label_source"] = list(ids), source
        t["genres_all"] = genre_table.fma_tree().expand(ids)


def _make_member(t):
    if t["broken"] == "empty":
        return b""
    if t["broken"] == "not_audio":
        return b"<html><body>404 Not Found</body></html>\n" * 40
    seconds = 5.0 if t["broken"] == "short" else t["seconds"]
    x = render(t["genre"], seconds, t["seed"], t["sample_rate"], traits=t.get("traits", ()))
    if t["channels"] == 2:
        x = np.stack([x, np.roll(x, 37) * 0.9], axis=1)
    data = _encode_mp3(x, t["sample_rate"], t.get("compact", False), t.get("fma_bitrate", False))
    if t["broken"] == "truncated":
        data = data[: len(data) // 12]
    return data


def _tracks_csv(tracks, extra, subset):
    import pandas as pd

    rows = {}
    for t in tracks + extra:
        in_subset = not t.get("not_in_subset")
        small = in_subset and (subset == "small" or (t["genre_id"], t["genre"]) in SMALL_GENRES)
        rows[t["track_id"]] = {
            ("album", "id"): 1000 + t["artist_id"],
            ("artist", "id"): t["artist_id"],
            ("artist", "name"): f"Synth Artist {t['artist_id']}",
            ("set", "split"): t["split"],
            ("set", "subset"): "small" if small else ("medium" if in_subset else "large"),
            ("track", "genre_top"): t["genre"],
            ("track", "genres"): str(t["genres"]),
            ("track", "genres_all"): str(t["genres_all"]),
            ("track", "title"): f"Synthetic {t['genre']} {t['track_id']}",
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.columns = pd.MultiIndex.from_tuples(df.columns)
    df.index.name = "track_id"
    return df.sort_index().to_csv()


def _genres_csv():
    """FMA's own genres.csv (the package's copy): the hierarchy the multi-label configurations read."""
    from keras_tsr.data import genres as genre_table

    with open(genre_table.GENRES_CSV, "rb") as f:
        return f.read()


def _write_zip(path, folder, members):
    """Writes a zip like FMA's: bzip2 members under `folder/`, plus a sha1 `checksums` member."""
    sums = []
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_BZIP2) as zf:
        for name, data in members:
            zf.writestr(f"{folder}/{name}", data)
            sums.append(f"{hashlib.sha1(data).hexdigest()}  {name}")
        zf.writestr(f"{folder}/checksums", "\n".join(sums) + "\n")


def write_fixture(out, tracks_per_genre=10, subset="small", seed=0, broken=True, workers=None, progress=True,
                  overwrite=False, compact=False, fma_bitrate=False, mono_fraction=0.1, subgenre_traits=False):
    """Writes an FMA-shaped fixture into `out`; returns the fixture description (also in fixture.json).

    Every track's genre list is a real FMA-small track's (`_label_lists`). With `subgenre_traits`, each genre of
    its `genres_all` other than its top genre also leaves its mark in the audio (`synth_music.subgenre_trait`), so
    that a multi-label model has the sub-genres to learn; without, the audio is the top genre's alone.

    About 10% of the tracks are mono (`mono_fraction`), 10% at 48 kHz and 5% at 22.05 kHz, as in FMA; the rest
    44.1 kHz stereo. LAME encodes a mono mp3 far faster than a stereo one, so the demo, which only needs every
    path exercised, asks for mostly mono tracks (its files then take 58 s to write instead of 1.7 min).
    """
    if subset not in SUBSETS:
        raise ArgumentError(f"subset must be one of {sorted(SUBSETS)}. Received: subset={subset!r}")
    if tracks_per_genre < 3:
        raise ArgumentError(f"tracks_per_genre must be >= 3 (one each for train, validation, test). "
                         f"Received: tracks_per_genre={tracks_per_genre}")
    os.makedirs(out, exist_ok=True)
    audio_zip = os.path.join(out, f"fma_{subset}.zip")
    meta_zip = os.path.join(out, "fma_metadata.zip")
    for p in (audio_zip, meta_zip):
        if os.path.exists(p) and not overwrite:
            raise OutputExistsError(f"{p} exists; choose another --out or pass --overwrite")
    if compact and fma_bitrate:
        raise ArgumentError("compact and fma_bitrate exclude each other: compact files are small on purpose")
    tracks, extra = _plan(tracks_per_genre, subset, seed, broken, compact, fma_bitrate, mono_fraction)
    if subgenre_traits:
        for t in tracks:
            t["traits"] = [g for g in t["genres_all"] if g != t["genre_id"]]
    workers = workers or os.cpu_count() or 1
    from tqdm.auto import tqdm

    with ThreadPoolExecutor(workers) as pool:
        datas = list(tqdm(pool.map(_make_member, tracks), total=len(tracks), desc=f"synth fma_{subset}",
                          unit="track", disable=not progress))
    members = [(member_path(t['track_id']), d) for t, d in zip(tracks, datas)]
    members.append(("README.txt", b"Synthetic FMA-shaped audio generated by keras_tsr.data.synth. Not real music.\n"))
    _write_zip(audio_zip, f"fma_{subset}", members)
    _write_zip(meta_zip, "fma_metadata", [
        ("tracks.csv", _tracks_csv(tracks, extra, subset).encode()),
        ("genres.csv", _genres_csv()),
        ("README.txt", b"Synthetic FMA-shaped metadata generated by keras_tsr.data.synth.\n"),
    ])
    desc = {"subset": subset, "tracks_per_genre": tracks_per_genre, "seed": seed,
            "genres": [g for _, g in SUBSETS[subset]], "tracks": tracks}
    write_json_atomic(os.path.join(out, "fixture.json"), desc)
    return desc
