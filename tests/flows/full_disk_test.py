"""A real full disk: a small tmpfs under a training workdir, an export and an evaluation (root only: CI runs as root).

Each command that meets the full disk ends with one line (what, where, the space left) and exit code 2, leaves
nothing half-written where the next run reads, and after space is freed the same command finishes: training
resumes and its log holds each epoch once.
"""

import contextlib
import csv
import os
import subprocess

import pytest

from tests.flows.conftest import run_cli

# needs_root: conftest.py deselects it (saying so) where the suite does not run as root; CI runs as root
pytestmark = [pytest.mark.slow, pytest.mark.backend_independent, pytest.mark.needs_root]


@contextlib.contextmanager
def small_filesystem(path, size):
    """A tmpfs of `size` at `path` (root only: the test is deselected elsewhere)."""
    os.makedirs(path, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, f"cannot mount a tmpfs at {path}: {proc.stderr.strip()}"
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(path, leave):
    """A filler file that leaves about `leave` bytes free on the filesystem of `path`."""
    import shutil

    free = shutil.disk_usage(path).free
    filler = os.path.join(path, "filler.bin")
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def _one_line(stderr):
    lines = [ln for ln in stderr.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


def test_training_export_and_evaluation_meet_a_full_disk(built_dataset, trained, tmp_path):
    disk = tmp_path / "disk"
    with small_filesystem(disk, "4m"):
        # training: the first epoch's checkpoint and backup fit, a later epoch's do not
        filler = _fill(disk, 900_000)
        workdir = str(disk / "run")
        argv = ["train", "--data-dir", str(built_dataset[0]), "--preset", "debug", "--epochs", "3",
                "--batch-size", "16", "--workdir", workdir]
        proc = run_cli("keras_tsr", *argv, env={"KERAS_BACKEND": "jax"})
        assert proc.returncode == 2
        line = _one_line(proc.stderr)
        assert "no space left on the device writing" in line and workdir in line and "free" in line
        assert not [f for f in os.listdir(workdir) if "partial" in f]  # nothing half-written where it is read
        os.remove(filler)
        proc = run_cli("keras_tsr", *argv, env={"KERAS_BACKEND": "jax"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "resum" in proc.stderr.lower()
        epochs = [int(r["epoch"]) for r in csv.DictReader(open(os.path.join(workdir, "log.csv")))]
        assert epochs == [0, 1, 2]

        # export: one line, no partial export left
        filler = _fill(disk, 200_000)
        out = str(disk / "saved" / "1")
        proc = run_cli("keras_tsr", "export", "--workdir", trained[0], "--output", out)
        assert proc.returncode == 2
        assert "no space left" in _one_line(proc.stderr)
        assert not os.path.exists(out) and not os.path.exists(out + ".partial")

        # evaluation's outputs (metrics, plots) of a workdir on the full disk
        os.remove(filler)
        proc = run_cli("keras_tsr", "evaluate", "--workdir", workdir, env={"KERAS_BACKEND": "jax"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        eval_dir = os.path.join(workdir, "eval")
        before = {f: open(os.path.join(eval_dir, f), "rb").read() for f in os.listdir(eval_dir)
                  if f.endswith(".json")}
        filler = _fill(disk, 20_000)
        proc = run_cli("keras_tsr", "evaluate", "--workdir", workdir, env={"KERAS_BACKEND": "jax"})
        assert proc.returncode == 2
        assert "no space left" in _one_line(proc.stderr)
        for name, data in before.items():  # the previous results stay whole
            assert open(os.path.join(eval_dir, name), "rb").read() == data
        os.remove(filler)


def test_a_dataset_build_meets_a_full_disk(smoke_cache, tmp_path):
    """`tsr train --demo` building its dataset onto a full disk (the TFDS shard writer meets it: TensorFlow's error,
    re-raised by TFDS, not an OSError): one line naming the shard, exit 2, no dataset left that the next run would
    read; after space is freed the same build completes with every example."""
    import tensorflow_datasets as tfds

    from keras_tsr.datasets import pipeline as data

    disk = tmp_path / "disk"
    with small_filesystem(disk, "24m"):
        demo = disk / "cache" / "demo_3"
        demo.mkdir(parents=True)
        os.symlink(smoke_cache / "demo_3" / "manual", demo / "manual")  # the audio elsewhere: the shards meet it
        filler = _fill(disk, 1_000_000)
        proc = run_cli("keras_tsr", "train", "--demo", "--demo-tracks-per-genre", "3", "--preset", "debug",
                       "--epochs", "1", "--workdir", str(tmp_path / "run"),
                       env={"KERAS_BACKEND": "jax", "KERAS_TSR_CACHE": str(disk / "cache")})
        assert proc.returncode == 2, proc.stderr[-3000:]
        line = _one_line(proc.stderr)
        assert "no space left on the device writing" in line and str(demo / "tensorflow_datasets") in line
        assert (".array_record" in line or ".tfrecord" in line) and "free" in line
        tfds_dir = demo / "tensorflow_datasets" / "fma_small_logmel"
        assert not data.is_prepared("fma_small_logmel/12s", str(demo / "tensorflow_datasets"))
        assert not [p for p in tfds_dir.rglob("*") if "incomplete" in p.name]  # nothing half-built kept
        os.remove(filler)
        data_dir = data.demo_dataset(3, root=str(demo))  # the same build again, with space
        whole = tfds.builder("fma_small_logmel/12s", data_dir=str(smoke_cache / "demo_3" / "tensorflow_datasets"))
        rebuilt = tfds.builder("fma_small_logmel/12s", data_dir=data_dir)
        assert {s: v.num_examples for s, v in rebuilt.info.splits.items()} == {
            s: v.num_examples for s, v in whole.info.splits.items()}
