import os
import subprocess
import sys

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDER_DIR = os.path.join(REPO, "datasets", "fma_small_logmel")
MEDIUM_BUILDER_DIR = os.path.join(REPO, "datasets", "fma_medium_logmel")


@pytest.fixture(scope="session")
def fma_fixture(tmp_path_factory):
    """A synthetic FMA-shaped manual dir: fma_small.zip + fma_metadata.zip, 3 good tracks a genre + 4 broken."""
    from keras_tsr.data import synth

    out = tmp_path_factory.mktemp("fma_manual")
    desc = synth.write_fixture(str(out), tracks_per_genre=3, seed=7, progress=False)
    return out, desc


def tfds_build(manual_dir, data_dir, config="12s", extra=(), builder=BUILDER_DIR, cwd=None):
    """Runs `tfds build` on our builder in a subprocess, offline; returns the completed process.

    config=None builds every configuration (no --config).
    """
    cmd = [os.path.join(os.path.dirname(sys.executable), "tfds"), "build", builder,
           *(["--config", config] if config else []), "--manual_dir", str(manual_dir), "--data_dir", str(data_dir),
           "--noforce_checksums_validation", *extra]
    env = {**os.environ, "NO_GCE_CHECK": "true"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, cwd=cwd)


@pytest.fixture(scope="session")
def built_dataset(fma_fixture, tmp_path_factory):
    """fma_small_logmel/12s built by the tfds CLI from `fma_fixture`; returns (data_dir, fixture description)."""
    manual, desc = fma_fixture
    data_dir = tmp_path_factory.mktemp("tfds_data")
    proc = tfds_build(manual, data_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return data_dir, desc, proc


@pytest.fixture(scope="session")
def built_clip_dataset(fma_fixture, built_dataset):
    """fma_small_logmel/clip built into the same data dir as `built_dataset`."""
    manual, desc = fma_fixture
    data_dir = built_dataset[0]
    proc = tfds_build(manual, data_dir, config="clip")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return data_dir, desc, proc


@pytest.fixture(scope="session")
def tiny_workdir(tmp_path_factory):
    from keras_tsr.testing import make_untrained_workdir

    return make_untrained_workdir(tmp_path_factory.mktemp("tiny_workdir"))
