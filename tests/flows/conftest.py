"""Fixtures of the user flows: a trained run, audio files, and the CLI run as a user runs it."""

import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import soundfile as sf

BACKEND = keras.backend.backend()


def run_cli(module, *args, env=None, timeout=600):
    env = {**os.environ, "KERAS_BACKEND": BACKEND, **(env or {})}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture(scope="session")
def trained(built_dataset, tmp_path_factory):
    """A debug-preset run of 2 epochs on the built synthetic dataset, in-process."""
    from keras_tsr.train import TrainConfig, train_and_evaluate

    data_dir, desc, _ = built_dataset
    workdir = str(tmp_path_factory.mktemp("run"))
    config = TrainConfig(data_dir=str(data_dir), preset="debug", epochs=2, batch_size=16)
    metrics = train_and_evaluate(config, workdir)
    return workdir, metrics, desc


@pytest.fixture(scope="session")
def audio_files(fma_fixture, tmp_path_factory):
    """One mp3 from the fixture zip, a 44.1 kHz wav, a short 22.05 kHz stereo flac, and a broken file."""
    manual, desc = fma_fixture
    out = tmp_path_factory.mktemp("songs")
    good = next(t for t in desc["tracks"] if not t["broken"] and t["split"] == "test")
    member = f"fma_small/{good['track_id']:06d}"[:13] + f"/{good['track_id']:06d}.mp3"
    (out / "song.mp3").write_bytes(zipfile.ZipFile(manual / "fma_small.zip").read(member))
    from keras_tsr.data import synth

    sf.write(out / "song.wav", synth.render("Rock", 20.0, seed=5), 44100)
    x = synth.render("Folk", 4.0, seed=6, sr=22050)
    sf.write(out / "short.flac", np.stack([x, x], 1), 22050)
    (out / "broken.ogg").write_bytes(b"not audio at all")
    return out


def _weights(path):
    from keras_tsr.models import load_model

    return [np.asarray(w) for w in load_model(path).get_weights()]


@pytest.fixture(scope="session")
def my_music(tmp_path_factory):
    from keras_tsr.data import synth

    d = tmp_path_factory.mktemp("my_music")
    synth.write_genre_folder(str(d), genres=("Folk", "Hip-Hop", "Rock"), per_genre=10, seconds=(3.0, 7.0), seed=4,
                             layout="gtzan")
    return d
