"""The JAX path where TensorFlow cannot be imported (a GPU machine with `keras-tsr[jax-cuda]`): train, evaluate,
predict and embed from a build made beforehand, and `tsr train --demo` on the demo's data, each in a process
whose `import tensorflow` fails."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

# the process runs keras_tsr's CLI with tensorflow hidden, as in a venv without it: the path finder finds no
# tensorflow (so `import tensorflow` raises ModuleNotFoundError and importlib.util.find_spec answers None)
BLOCKED = """
import importlib.machinery, runpy, sys
_find = importlib.machinery.PathFinder.find_spec
def _hidden(cls, name, path=None, target=None):
    return None if name.split(".")[0] in ("tensorflow", "tensorflow_cpu") else _find(name, path, target)
importlib.machinery.PathFinder.find_spec = classmethod(_hidden)
import keras_tsr.runtime as r
assert not r.has_tensorflow()
sys.argv = ["tsr"] + sys.argv[1:]
runpy.run_module("keras_tsr", run_name="__main__")
"""


def _tsr(*args, env=None):
    env = {**os.environ, "KERAS_BACKEND": "jax", **(env or {})}
    return subprocess.run([sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, env=env,
                          timeout=900)


@pytest.mark.backend_independent  # JAX only: the TensorFlow backend needs TensorFlow
def test_train_evaluate_predict_embed_without_tensorflow(built_dataset, audio_files, tmp_path):
    run = str(tmp_path / "run")
    done = _tsr("train", "--data-dir", str(built_dataset[0]), "--preset", "debug", "--epochs", "1", "--batch-size",
                "16", "--workdir", run)
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["loader"] == "grain"
    assert "no TensorBoard events without TensorFlow" in done.stderr
    evaluated = _tsr("evaluate", "--workdir", run)
    assert evaluated.returncode == 0 and "track" in evaluated.stdout, evaluated.stderr[-3000:]
    song = str(audio_files / "song.wav")
    predicted = _tsr("predict", song, "--model", run, "--json")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    row = json.loads(predicted.stdout.strip().splitlines()[-1])
    assert row["genre"] in config["class_names"]
    out = str(tmp_path / "emb.npz")
    embedded = _tsr("embed", song, "--model", run, "-o", out)
    assert embedded.returncode == 0, embedded.stderr[-3000:]
    assert np.load(out)["embeddings"].shape[0] == 1
    # what needs TensorFlow says so in one line, naming the extra
    refused = _tsr("export", "--workdir", run, "-o", str(tmp_path / "sm" / "1"))
    assert refused.returncode == 2 and "keras-tsr[cpu]" in refused.stderr and "Traceback" not in refused.stderr
    asked = _tsr("train", "--data-dir", str(built_dataset[0]), "--preset", "debug", "--loader", "tf",
                 "--workdir", str(tmp_path / "tf_run"))
    assert asked.returncode != 0 and "tensorflow is not installed" in asked.stderr, asked.stderr[-2000:]
    assert "Traceback" not in asked.stderr


@pytest.mark.backend_independent
def test_demo_trains_without_tensorflow(smoke_cache, tmp_path):
    done = _tsr("train", "--demo", "--demo-tracks-per-genre", "3", "--preset", "debug", "--epochs", "1",
                "--workdir", str(tmp_path / "demo"), env={"KERAS_TSR_CACHE": str(smoke_cache)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert os.path.exists(tmp_path / "demo" / "eval" / "metrics.json")
