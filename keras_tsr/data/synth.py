"""Synthetic, FMA-shaped dataset: the test fixture and the built-in demo.

`tsr synth-fma --out DIR --tracks-per-genre N` (or `python -m keras_tsr synth-fma ...`)
writes, like the official archives:

    DIR/fma_small.zip      fma_small/NNN/NNNNNN.mp3 (bzip2 members), checksums, README.txt
    DIR/fma_metadata.zip   fma_metadata/tracks.csv (three-row header), genres.csv, checksums, README.txt
    DIR/fixture.json       what was written: tracks, broken files and why they are broken

With `--subset medium` it writes fma_medium.zip with 16 genres instead.

Each track is 30 s of generated music. Genres differ in character (tempo,
drum pattern, instruments, pitch range, noise, distortion) but every track
draws its own settings around its genre's, and one in five borrows a part from
another genre, so genres overlap and a model has to learn. Formats vary as in
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

from keras_tsr.audio import SAMPLE_RATE
from keras_tsr.data.fma import SMALL_GENRES, member_path
from keras_tsr.data.fma import SUBSET_GENRES as SUBSETS
from keras_tsr.errors import ArgumentError, OutputExistsError
from keras_tsr.utils import atomic_path, write_json_atomic

log = logging.getLogger(__name__)

BROKEN_KINDS = ("empty", "truncated", "short", "not_audio")

SR = SAMPLE_RATE  # most FMA clips are 44.1 kHz
X = None  # marks "no such part" in a style


# Each style picks kick/snare/hat patterns (steps of a 16th-note bar), instruments and ranges.
STYLES = {
    "Electronic": dict(tempo=(122, 132), kick=(0, 4, 8, 12), snare=(4, 12), hat=(2, 6, 10, 14),
                       bass="saw", lead="saw", pad=True, octave=(3, 5), noise=0.01, drive=0.0, swing=0.0,
                       scale="minor", density=0.5, lowpass=None),
    "Experimental": dict(tempo=(60, 180), kick=X, snare=X, hat=X, bass=X, lead="cluster", pad=False,
                         octave=(2, 7), noise=0.15, drive=0.3, swing=0.0, scale="chromatic", density=0.35,
                         lowpass=None),
    "Folk": dict(tempo=(84, 112), kick=X, snare=X, hat=X, bass="pluck", lead="pluck", pad=False, octave=(3, 5),
                 noise=0.005, drive=0.0, swing=0.1, scale="major", density=0.8, lowpass=6000),
    "Hip-Hop": dict(tempo=(84, 96), kick=(0, 3, 10), snare=(4, 12), hat=(0, 2, 4, 6, 8, 10, 12, 14),
                    bass="sub", lead="sine", pad=False, octave=(3, 4), noise=0.02, drive=0.1, swing=0.25,
                    scale="minor", density=0.25, lowpass=None),
    "Instrumental": dict(tempo=(60, 88), kick=X, snare=X, hat=X, bass="sine", lead="piano", pad=True,
                         octave=(2, 6), noise=0.003, drive=0.0, swing=0.0, scale="major", density=0.6, lowpass=None),
    "International": dict(tempo=(100, 140), kick=(0, 7, 10), snare=X, hat=(1, 3, 5, 9, 11, 13, 15),
                          bass="drone", lead="reed", pad=False, octave=(4, 5), noise=0.01, drive=0.05, swing=0.15,
                          scale="hijaz", density=0.7, lowpass=None),
    "Pop": dict(tempo=(100, 120), kick=(0, 8), snare=(4, 12), hat=(0, 2, 4, 6, 8, 10, 12, 14),
                bass="sine", lead="vocal", pad=True, octave=(4, 5), noise=0.005, drive=0.0, swing=0.0,
                scale="major", density=0.6, lowpass=None),
    "Rock": dict(tempo=(112, 150), kick=(0, 6, 8), snare=(4, 12), hat=(0, 2, 4, 6, 8, 10, 12, 14),
                 bass="saw", lead="power", pad=False, octave=(2, 4), noise=0.03, drive=0.7, swing=0.0,
                 scale="minor", density=0.5, lowpass=None),
    "Blues": dict(tempo=(70, 100), kick=(0, 8), snare=(4, 12), hat=(0, 3, 4, 7, 8, 11, 12, 15),
                  bass="walk", lead="pluck", pad=False, octave=(3, 5), noise=0.01, drive=0.2, swing=0.33,
                  scale="blues", density=0.5, lowpass=7000),
    "Classical": dict(tempo=(60, 100), kick=X, snare=X, hat=X, bass="sine", lead="strings", pad=True, octave=(3, 6),
                      noise=0.002, drive=0.0, swing=0.0, scale="major", density=0.7, lowpass=None),
    "Country": dict(tempo=(96, 128), kick=(0, 8), snare=(4, 12), hat=X, bass="pluck", lead="pluck",
                    pad=False, octave=(3, 5), noise=0.005, drive=0.0, swing=0.2, scale="major", density=0.9,
                    lowpass=8000),
    "Easy Listening": dict(tempo=(70, 96), kick=(0,), snare=X, hat=(4, 12), bass="sine", lead="sine",
                           pad=True, octave=(4, 5), noise=0.002, drive=0.0, swing=0.1, scale="major", density=0.4,
                           lowpass=5000),
    "Jazz": dict(tempo=(110, 180), kick=X, snare=(6,), hat=(0, 4, 7, 8, 12, 15), bass="walk",
                 lead="piano", pad=False, octave=(3, 6), noise=0.005, drive=0.0, swing=0.33, scale="dorian",
                 density=0.6, lowpass=None),
    "Old-Time / Historic": dict(tempo=(80, 120), kick=X, snare=X, hat=X, bass="pluck", lead="reed", pad=False,
                                octave=(3, 5), noise=0.08, drive=0.2, swing=0.1, scale="major", density=0.6,
                                lowpass=3000),
    "Soul-RnB": dict(tempo=(68, 92), kick=(0, 7, 8), snare=(4, 12), hat=(0, 2, 4, 6, 8, 10, 12, 14),
                     bass="sub", lead="vocal", pad=True, octave=(3, 5), noise=0.005, drive=0.05, swing=0.2,
                     scale="dorian", density=0.5, lowpass=None),
    "Spoken": dict(tempo=(60, 90), kick=X, snare=X, hat=X, bass=X, lead="formant", pad=False, octave=(2, 3),
                   noise=0.02, drive=0.0, swing=0.0, scale="chromatic", density=0.9, lowpass=4000),
}
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10], "dorian": [0, 2, 3, 5, 7, 9, 10],
          "blues": [0, 3, 5, 6, 7, 10], "hijaz": [0, 1, 4, 5, 7, 8, 10], "chromatic": list(range(12))}


def _midi_hz(m):
    return 440.0 * 2.0 ** ((np.asarray(m, float) - 69) / 12)


def _env(n, attack, decay, sr=SR):
    t = np.arange(n) / sr
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / max(decay, 1e-3))


_TABLE_N = 2048
_TABLES: dict = {}


def _table(kind, bright):
    """One period of an instrument's waveform (wavetable), cached per (kind, brightness step)."""
    key = (kind, round(bright, 1))
    if key not in _TABLES:
        ph = 2 * np.pi * np.arange(_TABLE_N) / _TABLE_N
        if kind in ("saw", "power"):
            k = np.arange(1, int(8 + 10 * bright))
            amps = 1.0 / k
        elif kind == "bright":  # attack of plucked/struck strings
            k = np.arange(1, 9)
            amps = 1.0 / k ** (1.5 - 0.5 * bright)
        elif kind == "dull":  # their decayed body
            k = np.arange(1, 3)
            amps = np.array([1.0, 0.3])
        elif kind == "reed":
            k = np.arange(1, 10)
            amps = np.where(k % 2 == 1, 1.0 / k, 0.1 / k)
        else:  # vocal, strings
            k = np.arange(1, 7 if kind == "vocal" else 10)
            amps = 1.0 / k
        _TABLES[key] = (amps[:, None] * np.sin(k[:, None] * ph[None, :])).sum(0)
    return _TABLES[key]


def _lookup(table, phase_cycles):
    return table[(phase_cycles * _TABLE_N).astype(np.int64) % _TABLE_N]


def _tone(kind, f, n, rng, sr=SR, bright=1.0):
    t = np.arange(n) / sr
    if kind in ("sine", "sub", "drone"):
        y = np.sin(2 * np.pi * f * t)
        if kind == "drone":
            y += 0.5 * np.sin(2 * np.pi * 1.5 * f * t)
        return y * (_env(n, 0.01, 2.0 if kind == "drone" else 0.6))
    if kind in ("saw", "power"):
        y = _lookup(_table("saw", bright), f * t)
        if kind == "power":
            y = y + _lookup(_table("saw", bright), 1.5 * f * t)
        return y * _env(n, 0.005, 0.5)
    if kind in ("pluck", "piano"):
        d = 0.9 if kind == "piano" else 0.35
        y = _lookup(_table("bright", bright), f * t) * np.exp(-t / (d / 3)) + _lookup(_table("dull", 1.0), f * t) * \
            np.exp(-t / d)
        return y * _env(n, 0.002, 5.0)
    if kind in ("vocal", "strings", "reed"):
        vib = 1 + 0.006 * np.sin(2 * np.pi * (5.5 if kind != "strings" else 4.5) * t)
        cycles = np.cumsum(f * vib) / sr
        return _lookup(_table(kind, 1.0), cycles) * _env(n, 0.08 if kind == "strings" else 0.03, 1.5)
    if kind == "cluster":
        fs = f * 2 ** (rng.uniform(-0.5, 0.5, 4))
        y = np.sin(2 * np.pi * fs * t[:, None]).sum(1) + 0.5 * rng.standard_normal(n) * _env(n, 0.001, 0.05)
        return y * _env(n, rng.uniform(0.001, 0.3), rng.uniform(0.1, 1.5))
    if kind == "formant":  # speech-like: voiced buzz through two formant bands
        src = np.sign(np.sin(2 * np.pi * f * t)) * 0.5 + 0.3 * rng.standard_normal(n)
        y = np.zeros(n)
        for fc in rng.uniform([300, 900], [900, 2500]):
            y += np.sin(2 * np.pi * fc * t) * src
        return y * _env(n, 0.02, 0.15)
    raise ValueError(f"unknown instrument {kind!r}")


def _drum(kind, n, rng, sr=SR):
    t = np.arange(n) / sr
    if kind == "kick":
        f = 50 + 100 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.18)
    if kind == "snare":
        return (0.7 * rng.standard_normal(n) + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.09)
    noise = rng.standard_normal(n)
    return np.diff(noise, prepend=0.0) * np.exp(-t / 0.025)  # hat: bright, short


def _lowpass(y, cutoff, sr=SR):
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(4, cutoff, fs=sr, output="sos"), y)


def _mix_in(out, part, start):
    end = min(len(out), start + len(part))
    if start < end:
        out[start:end] += part[: end - start]


def track_style(genre: str, rng: np.random.Generator) -> dict:
    """A genre's style with this track's own variation (and sometimes a borrowed part)."""
    style = dict(STYLES[genre])
    if rng.random() < 0.2:  # overlap: borrow one part from another genre
        other = STYLES[rng.choice(sorted(STYLES))]
        key = rng.choice(["bass", "lead", "pad", "hat", "noise", "drive", "octave"])
        style[key] = other[key]
    lo, hi = style["tempo"]
    style["tempo"] = float(rng.uniform(lo, hi) * rng.uniform(0.95, 1.05))
    style["noise"] = float(style["noise"] * rng.uniform(0.5, 2.0))
    style["drive"] = float(np.clip(style["drive"] + rng.normal(0, 0.1), 0, 1))
    style["density"] = float(np.clip(style["density"] * rng.uniform(0.7, 1.3), 0.1, 1.0))
    style["bright"] = float(rng.uniform(0.5, 1.5))
    style["key"] = int(rng.integers(0, 12))
    return style


def render(genre: str, seconds: float, seed: int, sr: int = SR) -> np.ndarray:
    """Renders `seconds` of music in `genre` at `sr`, mono float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    s = track_style(genre, rng)
    n = int(seconds * sr)
    out = np.zeros(n)
    step = 60.0 / s["tempo"] / 4  # a 16th note
    n_steps = int(seconds / step) + 1
    scale = SCALES[s["scale"]]
    lo_oct, hi_oct = s["octave"]
    drums = {"kick": (s["kick"], 1.0), "snare": (s["snare"], 0.6), "hat": (s["hat"], 0.25)}
    sounds = {k: _drum(k, int(0.4 * sr), rng, sr) for k in drums}
    chord_root = 0
    for i in range(n_steps):
        bar_pos = i % 16
        start = int((i * step + (s["swing"] * step if i % 2 else 0.0)) * sr)
        if bar_pos == 0 and (i // 16) % 2 == 0:
            chord_root = int(rng.choice(scale))
        for name, (pattern, level) in drums.items():
            if pattern is not X and bar_pos in pattern and rng.random() < 0.95:
                _mix_in(out, level * rng.uniform(0.8, 1.1) * sounds[name], start)
        if s["bass"] is not X and bar_pos % (2 if s["bass"] == "walk" else 4) == 0 and rng.random() < 0.9:
            deg = chord_root + (int(rng.choice(scale)) if s["bass"] == "walk" else 0)
            f = _midi_hz(12 * (lo_oct + 1) + s["key"] + deg - 12)
            kind = {"walk": "pluck", "drone": "drone"}.get(s["bass"], s["bass"])
            _mix_in(out, 0.5 * _tone(kind, f, int(step * 4 * sr), rng, sr, s["bright"]), start)
        if s["lead"] is not X and rng.random() < s["density"] * 0.5:
            octave = int(rng.integers(lo_oct, hi_oct + 1))
            f = _midi_hz(12 * (octave + 1) + s["key"] + int(rng.choice(scale)))
            dur = step * int(rng.choice([1, 2, 4]))
            _mix_in(out, 0.35 * _tone(s["lead"], f, int(dur * 1.5 * sr), rng, sr, s["bright"]), start)
        if s["pad"] and bar_pos == 0 and (i // 16) % 2 == 0:
            f0 = 12 * (lo_oct + 2) + s["key"] + chord_root
            seg = int(step * 32 * sr)
            tt = np.arange(seg) / sr
            pad = sum(np.sin(2 * np.pi * _midi_hz(f0 + d) * tt) for d in (0, 4 if s["scale"] == "major" else 3, 7))
            _mix_in(out, 0.12 * pad * np.minimum(1, tt / 0.5) * np.minimum(1, (tt[::-1]) / 0.5), start)
    if s["drive"] > 0:
        g = 1 + 8 * s["drive"]
        out = np.tanh(g * out) / np.tanh(g)
    out = out / (np.max(np.abs(out)) + 1e-9)
    out = out + s["noise"] * rng.standard_normal(n)
    if s["lowpass"]:
        out = _lowpass(out, min(s["lowpass"], 0.45 * sr), sr)
    out = 0.8 * out / (np.max(np.abs(out)) + 1e-9)
    return out.astype(np.float32)


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
    """Track ids, genres, artists, official split, format and breakage of every track."""
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
    return sorted(tracks, key=lambda t: t["track_id"]), extra


def _make_member(t):
    if t["broken"] == "empty":
        return b""
    if t["broken"] == "not_audio":
        return b"<html><body>404 Not Found</body></html>\n" * 40
    seconds = 5.0 if t["broken"] == "short" else t["seconds"]
    x = render(t["genre"], seconds, t["seed"], t["sample_rate"])
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
            ("track", "genres"): f"[{t['genre_id']}]",
            ("track", "genres_all"): f"[{t['genre_id']}]",
            ("track", "title"): f"Synthetic {t['genre']} {t['track_id']}",
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.columns = pd.MultiIndex.from_tuples(df.columns)
    df.index.name = "track_id"
    return df.sort_index().to_csv()


def _genres_csv(subset):
    lines = ["genre_id,#tracks,parent,title,top_level"]
    for gid, title in sorted(SUBSETS[subset]):
        name = f'"{title}"' if "," in title else title
        lines.append(f"{gid},0,0,{name},{gid}")
    return "\n".join(lines) + "\n"


def _write_zip(path, folder, members):
    """Writes a zip like FMA's: bzip2 members under `folder/`, plus a sha1 `checksums` member."""
    sums = []
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_BZIP2) as zf:
        for name, data in members:
            zf.writestr(f"{folder}/{name}", data)
            sums.append(f"{hashlib.sha1(data).hexdigest()}  {name}")
        zf.writestr(f"{folder}/checksums", "\n".join(sums) + "\n")


def write_fixture(out, tracks_per_genre=10, subset="small", seed=0, broken=True, workers=None, progress=True,
                  overwrite=False, compact=False, fma_bitrate=False, mono_fraction=0.1):
    """Writes an FMA-shaped fixture into `out`; returns the fixture description (also in fixture.json).

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
        ("genres.csv", _genres_csv(subset).encode()),
        ("README.txt", b"Synthetic FMA-shaped metadata generated by keras_tsr.data.synth.\n"),
    ])
    desc = {"subset": subset, "tracks_per_genre": tracks_per_genre, "seed": seed,
            "genres": [g for _, g in SUBSETS[subset]], "tracks": tracks}
    write_json_atomic(os.path.join(out, "fixture.json"), desc)
    return desc


def write_genre_folder(out, genres=("Folk", "Hip-Hop", "Rock"), per_genre=4, seconds=(5.0, 31.0), seed=0,
                       layout="plain", corrupt=1):
    """A folder of genre folders of generated music, for tests and benchmarks (`keras_tsr.data.folders`' input).

    layout "gtzan": genres/<genre>/<genre>.000NN.au (22.05 kHz mono), plus
    one .wav, as GTZAN and its Kaggle copy hold them; "plain": a user's
    collection with mixed formats (mp3, flac, wav), rates (22.05 to 48 kHz),
    mono and stereo, a nested folder and non-ASCII names. `corrupt` files
    that do not decode are added. Returns {relative path: genre}.
    """
    import soundfile as sf

    rng = np.random.default_rng(seed)
    made = {}
    for g_idx, genre in enumerate(genres):
        name = genre.lower().replace("-", "")
        for i in range(per_genre):
            length = float(rng.uniform(*seconds))
            if layout == "gtzan":
                sr, channels = 22050, 1
                ext = ".wav" if i == per_genre - 1 else ".au"
                rel = os.path.join("genres", name, f"{name}.{i:05d}{ext}")
            else:
                sr = [22050, SR, 48000][i % 3]
                channels = 1 + (i % 2)
                ext = [".mp3", ".flac", ".wav"][i % 3]
                sub = os.path.join(genre, "live sets") if i == 1 else genre
                stem = "chanson d'été" if i == 2 else f"track {i:02d}"
                rel = os.path.join(sub, f"{stem}{ext}")
            x = render(genre if genre in STYLES else list(STYLES)[g_idx % len(STYLES)], length,
                       seed=seed * 1000 + g_idx * 100 + i, sr=sr)
            x = np.stack([x, x], 1) if channels == 2 else x
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if ext == ".mp3":
                with open(path, "wb") as f:
                    f.write(_encode_mp3(x, sr))
            else:
                sf.write(path, x, sr, format={".au": "AU", ".wav": "WAV", ".flac": "FLAC"}[ext])
            made[rel] = genre
    for k in range(corrupt):
        genre = genres[k % len(genres)]
        name = genre.lower().replace("-", "")
        rel = os.path.join("genres", name, f"{name}.{per_genre + k:05d}.wav") if layout == "gtzan" \
            else os.path.join(genre, f"broken {k}.wav")
        with open(os.path.join(out, rel), "wb") as f:
            f.write(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(20))  # a header and nothing else
        made[rel] = genre
    return made

