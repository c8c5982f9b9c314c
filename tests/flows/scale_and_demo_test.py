"""Data parallel training on two devices, and the built-in demo end to end."""

import csv
import json
import os

import pytest

from tests.flows.conftest import run_cli


@pytest.mark.slow
@pytest.mark.backend_independent  # runs under JAX whatever the suite's backend: once is enough
def test_distribute_on_two_virtual_jax_devices(built_dataset, tmp_path):
    """keras.distribution data parallelism is the JAX path: run under JAX whatever the suite's backend."""
    workdir = str(tmp_path / "dp")
    proc = run_cli("keras_tsr.train", "--workdir", workdir, "--data-dir", str(built_dataset[0]), "--preset", "debug",
                   "--epochs", "2", "--batch-size", "16", "--distribute",
                   env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "KERAS_BACKEND": "jax"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "data parallel over 2 devices" in proc.stderr
    rows = list(csv.DictReader(open(os.path.join(workdir, "log.csv"))))
    assert len(rows) == 2 and float(rows[1]["loss"]) < float(rows[0]["loss"])


@pytest.mark.slow
@pytest.mark.demo
def test_demo_end_to_end(tmp_path):
    """The README's first command: builds the demo, trains, evaluates, exports, predicts (minutes)."""
    env = {"KERAS_TSR_CACHE": str(tmp_path / "cache")}
    proc = run_cli("keras_tsr", "demo", "--workdir", str(tmp_path / "demo"), "--saved-models",
                   str(tmp_path / "saved" / "demo"), env=env, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.load(open(tmp_path / "demo" / "eval" / "metrics.json"))
    assert metrics["track"]["accuracy"] >= 0.9
    assert os.path.exists(tmp_path / "saved" / "demo" / "1" / "saved_model.pb")

    # the demo model's embeddings: new songs' nearest neighbours are mostly of their own genre
    import numpy as np
    import soundfile as sf

    from keras_tsr.data import fma, synth_music
    from keras_tsr.predict import GenreModel, nearest

    genres = [g for _, g in fma.SMALL_GENRES]
    songs = tmp_path / "new_songs"
    songs.mkdir()
    labels = []
    for i, genre in enumerate(genres):
        for k in range(4):
            sf.write(songs / f"{i}_{k}.wav", synth_music.render(genre, 30.0, seed=10_000 + 10 * i + k), 44100)
            labels.append(genre)
    model = GenreModel(str(tmp_path / "demo"))
    emb = np.stack([model.embed(songs / f"{i}_{k}.wav") for i in range(len(genres)) for k in range(4)])
    hits = nearest(emb, emb, 3, exclude=[[j] for j in range(len(emb))])
    share = np.mean([labels[j] == labels[q] for q, row in enumerate(hits) for j, _ in row])
    chance = 3 / (len(labels) - 1)  # another song of the same genre, at random
    assert share > 0.5 and share > 3 * chance, (share, chance)
