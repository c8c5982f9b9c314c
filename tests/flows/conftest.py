"""Fixtures of the user flows: a trained run, audio files, and the CLI run as a user runs it."""

import os
import signal
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import shared

BACKEND = keras.backend.backend()


def run_cli(module, *args, env=None, timeout=600):
    env = {**os.environ, "KERAS_BACKEND": BACKEND, **(env or {})}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def kill_when(argv, ready, env=None, timeout=600, every=0.05):
    """Starts `argv` in its own process group, kills the whole group with SIGKILL once `ready()` holds."""
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(every)
    assert proc.poll() is None, f"{argv[:4]} finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture(scope="session")
def trained(built_dataset, tmp_path_factory):
    """A debug-preset run of 2 epochs on the built synthetic dataset, in-process."""
    from keras_tsr.train import TrainConfig, train_and_evaluate

    data_dir, desc, _ = built_dataset

    def make(workdir):
        config = TrainConfig(data_dir=str(data_dir), preset="debug", epochs=2, batch_size=16)
        return str(workdir), train_and_evaluate(config, str(workdir)), desc

    return shared(tmp_path_factory, f"run_{BACKEND}", make)  # trained under this backend


@pytest.fixture(scope="session")
def exported_saved_model(trained, tmp_path_factory):
    from keras_tsr.serve.export import export_saved_model

    def make(folder):
        export_saved_model(trained[0], str(folder / "tsr" / "1"))
        return str(folder / "tsr" / "1")

    return shared(tmp_path_factory, f"saved_{BACKEND}", make)  # of the backend's `trained`


@pytest.fixture(scope="session")
def audio_files(fma_fixture, tmp_path_factory):
    """One mp3 from the fixture zip, a 44.1 kHz wav, a short 22.05 kHz stereo flac, and a broken file."""
    manual, desc = fma_fixture
    out = tmp_path_factory.mktemp("songs")
    good = next(t for t in desc["tracks"] if not t["broken"] and t["split"] == "test")
    member = f"fma_small/{good['track_id']:06d}"[:13] + f"/{good['track_id']:06d}.mp3"
    (out / "song.mp3").write_bytes(zipfile.ZipFile(manual / "fma_small.zip").read(member))
    from keras_tsr.data import synth_music

    sf.write(out / "song.wav", synth_music.render("Rock", 20.0, seed=5), 44100)
    x = synth_music.render("Folk", 4.0, seed=6, sr=22050)
    sf.write(out / "short.flac", np.stack([x, x], 1), 22050)
    (out / "broken.ogg").write_bytes(b"not audio at all")
    return out


def _weights(path):
    from keras_tsr.models import load_model

    return [np.asarray(w) for w in load_model(path).get_weights()]


@pytest.fixture(scope="session")
def my_music(tmp_path_factory):
    from keras_tsr.data import synth_folders

    d = tmp_path_factory.mktemp("my_music")
    synth_folders.write_genre_folder(str(d), genres=("Folk", "Hip-Hop", "Rock"), per_genre=10, seconds=(3.0, 7.0), seed=4,
                             layout="gtzan")
    return d
