"""SIGKILL inside the other long commands, then the same command again: `tfds build`, `tsr export` and a run of
`tsr experiment` leave nothing half-written where the rerun reads, and the rerun finishes with a whole result."""

import os
import subprocess
import sys

import pytest

from tests.conftest import BUILDER_DIR
from tests.flows.conftest import kill_when

pytestmark = [pytest.mark.slow, pytest.mark.backend_independent]


def _files(root):
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_killed_tfds_build_reruns_to_a_whole_dataset(fma_fixture, built_dataset, tmp_path):
    import tensorflow_datasets as tfds

    manual, _ = fma_fixture
    data_dir = tmp_path / "tfds"
    argv = [os.path.join(os.path.dirname(sys.executable), "tfds"), "build", BUILDER_DIR, "--config", "12s",
            "--manual_dir", str(manual), "--data_dir", str(data_dir), "--noforce_checksums_validation"]
    env = {"NO_GCE_CHECK": "true"}
    kill_when(argv, lambda: any("array_record" in f for f in _files(data_dir)), env)  # killed while writing shards
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    whole = {s: tfds.builder("fma_small_logmel/12s", data_dir=str(built_dataset[0])).info.splits[s].num_examples
             for s in ("train", "validation", "test")}
    rebuilt = tfds.builder("fma_small_logmel/12s", data_dir=str(data_dir))
    assert {s: rebuilt.info.splits[s].num_examples for s in whole} == whole
    train = rebuilt.as_data_source(split="train")
    assert sum(1 for i in range(len(train)) if train[i] is not None) == whole["train"]  # every record reads back


def test_killed_export_leaves_no_export_and_reruns(trained, tmp_path):
    out = tmp_path / "saved" / "1"
    argv = [sys.executable, "-m", "keras_tsr", "export", "--workdir", trained[0], "--output", str(out)]
    partial = str(out) + ".partial"
    # killed while its TensorFlow child writes the SavedModel beside the version folder (a short window: poll often)
    kill_when(argv, lambda: os.path.isdir(partial), {"KERAS_BACKEND": "jax"}, every=0.002)
    assert not os.path.exists(out)  # TF Serving never sees half an export
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": "jax"},
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert os.path.isfile(out / "saved_model.pb") and not os.path.exists(partial)


def test_killed_experiment_run_is_resumed_and_finished_runs_skipped(smoke_cache, tmp_path):
    env = {"KERAS_BACKEND": "jax", "KERAS_TSR_CACHE": str(smoke_cache)}
    argv = [sys.executable, "-m", "keras_tsr", "experiment", "transformer_layers", "--scale", "smoke", "--shard",
            "1/5", "--out", str(tmp_path / "out")]
    run = tmp_path / "out" / "transformer_layers" / "1_layers_seed0"
    kill_when(argv, lambda: (run / "config.json").exists(), env)  # killed inside its training run
    assert not (run / "DONE").exists()
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run / "DONE").exists() and "1 of 5 runs finished" in proc.stdout
    again = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env}, timeout=900)
    assert again.returncode == 0 and "already holds the finished run" in again.stderr, again.stderr[-2000:]
