"""Collections of generated music laid out as users keep theirs: genre folders (GTZAN's layouts, or a mixed
collection) and a multi-label folder with its labels file or tags, for tests and benchmarks."""

from __future__ import annotations

import os

import numpy as np

from keras_tsr.data.synth import _encode_mp3
from keras_tsr.data.synth_music import SR, STYLES, render
from keras_tsr.utils import write_json_atomic


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



# A labelled collection's further tags, each with its own mark in the audio (`synth_music.subgenre_trait`)
EXTRA_TAGS = {"Live": 9001, "Acoustic": 9002, "Lo-Fi": 9003}


def write_labelled_folder(out, genres=("Folk", "Hip-Hop", "Rock"), per_genre=8, seconds=(6.0, 14.0), seed=0,
                          label_file="labels.csv"):
    """A multi-label collection (`keras_tsr.data.labels`' input): flac files in one folder, each of a primary
    genre and, one file in two, one or two of `EXTRA_TAGS` (whose marks are mixed into its audio), listed in
    `label_file` (labels.csv or labels.json; None: none, the genres go in the files' own Vorbis GENRE tags).
    Returns {file: [genres]}."""
    import json

    import soundfile as sf

    rng = np.random.default_rng([seed, 41])
    made = {}
    for g_idx, genre in enumerate(genres):
        for i in range(per_genre):
            extra = [t for t in EXTRA_TAGS if rng.random() < 0.4]
            name = f"{genre.lower()} {i:02d}.flac"
            x = render(genre, float(rng.uniform(*seconds)), seed=seed * 1000 + g_idx * 100 + i, sr=22050,
                       traits=[EXTRA_TAGS[t] for t in extra])
            path = os.path.join(out, name)
            os.makedirs(out, exist_ok=True)
            sf.write(path, x, 22050, format="FLAC")
            made[name] = [genre, *extra]
            if label_file is None:
                from mutagen.flac import FLAC

                tags = FLAC(path)
                tags["genre"] = made[name]
                tags.save()
    if label_file == "labels.json":
        write_json_atomic(os.path.join(out, label_file), made)
    elif label_file:
        lines = ["file,genres"] + [f"{name},{';'.join(gs)}" for name, gs in made.items()]
        with open(os.path.join(out, label_file), "w") as f:
            f.write("\n".join(lines) + "\n")
    return json.loads(json.dumps(made))
