import os
import pickle
import shutil
import subprocess
import sys

import pytest
from filelock import FileLock

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# What every entry point's runtime.setup() sets, for the in-process tests and the processes they start (importing
# keras_tsr sets nothing): above all JAX's persistent compilation cache, so a program compiled by one test's
# process is not compiled again by the next.
from keras_tsr import runtime  # noqa: E402

runtime.set_defaults()

def shared(tmp_path_factory, name, make):
    """A session fixture made once for the whole run: `make(folder)` runs in the first pytest-xdist worker that
    asks (under a file lock), and the others read its pickled result; without xdist it simply runs.

    $TSR_TEST_SHARED_DIR (scripts/test.sh sets it for all its passes) keeps them across pytest runs too: the
    slow pass and the other backend's pass reuse what the first made (name the backend where it matters)."""
    root = os.environ.get("TSR_TEST_SHARED_DIR")
    if not root and not os.environ.get("PYTEST_XDIST_WORKER"):
        return make(tmp_path_factory.mktemp(name))
    from pathlib import Path

    root = Path(root) if root else tmp_path_factory.getbasetemp().parent  # the run's folder, above the workers'
    folder, result = root / name, root / f"{name}.pickle"
    with FileLock(str(root / f"{name}.lock")):
        if result.exists():
            return pickle.loads(result.read_bytes())
        shutil.rmtree(folder, ignore_errors=True)  # a worker that failed making it left a partial one
        folder.mkdir()
        value = make(folder)
        result.write_bytes(pickle.dumps(value))
    return value


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDER_DIR = os.path.join(REPO, "datasets", "fma_small_logmel")
MEDIUM_BUILDER_DIR = os.path.join(REPO, "datasets", "fma_medium_logmel")


@pytest.fixture(scope="session")
def fma_fixture(tmp_path_factory):
    """A synthetic FMA-shaped manual dir: fma_small.zip + fma_metadata.zip, 3 good tracks a genre + 4 broken."""
    from keras_tsr.data import synth

    def make(out):
        return out, synth.write_fixture(str(out), tracks_per_genre=3, seed=7, progress=False)

    return shared(tmp_path_factory, "fma_manual", make)


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

    def make(data_dir):
        proc = tfds_build(manual, data_dir)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return data_dir, desc, proc

    return shared(tmp_path_factory, "tfds_data", make)


@pytest.fixture(scope="session")
def built_clip_dataset(fma_fixture, built_dataset, tmp_path_factory):
    """fma_small_logmel/clip built into the same data dir as `built_dataset`."""
    manual, desc = fma_fixture
    data_dir = built_dataset[0]

    def make(_):
        proc = tfds_build(manual, data_dir, config="clip")
        assert proc.returncode == 0, proc.stderr[-3000:]
        return data_dir, desc, proc

    return shared(tmp_path_factory, "tfds_data_clip", make)


@pytest.fixture(scope="session")
def tiny_workdir(tmp_path_factory):
    import keras

    from keras_tsr.testing import make_untrained_workdir

    return shared(tmp_path_factory, f"tiny_workdir_{keras.backend.backend()}", make_untrained_workdir)


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory):
    """A KERAS_TSR_CACHE holding the built demo of `tsr experiment --scale smoke` (3 tracks a genre), for the tests
    that run grids: they read it, and none of them waits for its own build."""
    from keras_tsr.datasets.pipeline import demo_dataset

    def make(folder):
        demo_dataset(3, root=str(folder / "demo_3"))
        return folder

    return shared(tmp_path_factory, "smoke_cache", make)



@pytest.fixture(scope="session")
def multilabel_dataset(tmp_path_factory):
    """fma_small_logmel/clip_multilabel built from its own fixture: 12 tracks a genre, each with a real FMA-small
    track's genre list, and each sub-genre's mark in the audio (`subgenre_traits`); returns (data_dir, fixture)."""
    def make(folder):
        import tensorflow_datasets as tfds

        from keras_tsr.data import synth
        from keras_tsr.datasets import BUILDERS

        manual = folder / "manual"
        desc = synth.write_fixture(str(manual), tracks_per_genre=12, seed=11, broken=False, progress=False,
                                   compact=True, subgenre_traits=True)
        builder = BUILDERS["fma_small_logmel"](config="clip_multilabel", data_dir=str(folder / "data"))
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
        return folder / "data", desc

    return shared(tmp_path_factory, "multilabel_data", make)
