"""Synthetic music: a genre's character as sound, for the test fixtures, the demo and the export check.

Genres differ in character (tempo, drum pattern, instruments, pitch range, noise, distortion), but every track
draws its own settings around its genre's (`track_style`) and one in five borrows a part from another genre, so
genres overlap and a model has to learn. `render` is the one entry: (genre, seconds, seed, rate) -> mono float32.
All audio is generated here: nothing copyrighted.
"""

from __future__ import annotations

import numpy as np

from keras_tsr.audio import SAMPLE_RATE

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


def subgenre_trait(genre_id: int, n: int, seed: int, sr: int = SR) -> np.ndarray:
    """A sub-genre's mark, the same for every track that carries the genre id: short tone bursts on a pitch and a
    pulse rate of its own (pitch from 150 Hz over four octaves, one to four bursts a second), so that a
    multi-label model has each sub-genre to find in the log-mel. `n` samples; only the bursts' phase varies with
    `seed`."""
    rng = np.random.default_rng([int(genre_id), 7])
    f = 150.0 * 2.0 ** (int(rng.integers(0, 48)) / 12)
    rate = float(rng.choice([1.0, 1.5, 2.0, 3.0, 4.0]))
    harmonic = float(rng.uniform(0.0, 0.5))
    t = np.arange(n) / sr
    phase = np.random.default_rng(seed).uniform(0, 1 / rate)
    gate = (((t + phase) * rate) % 1.0) < 0.35
    tone = np.sin(2 * np.pi * f * t) + harmonic * np.sin(4 * np.pi * f * t)
    return (tone * gate).astype(np.float64)


def render(genre: str, seconds: float, seed: int, sr: int = SR, traits=()) -> np.ndarray:
    """Renders `seconds` of music in `genre` at `sr`, mono float32 in [-1, 1]; `traits` (genre ids) mix in each
    sub-genre's mark (`subgenre_trait`); without them the music is what it always was for this seed."""
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
    for genre_id in traits:
        out = out + 0.5 * subgenre_trait(genre_id, n, seed, sr)
    out = out + s["noise"] * rng.standard_normal(n)
    if s["lowpass"]:
        out = _lowpass(out, min(s["lowpass"], 0.45 * sr), sr)
    out = 0.8 * out / (np.max(np.abs(out)) + 1e-9)
    return out.astype(np.float32)
