"""Kill, diverge or double-start a training run, then rerun it: nothing is lost or interleaved."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.flows.conftest import BACKEND, _weights, kill_when, run_cli


def _h5_arrays(path):
    import h5py

    out = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, o: out.append(np.asarray(o)) if isinstance(o, h5py.Dataset) else None)
    return out


@pytest.mark.slow
@pytest.mark.backend_independent  # the resume is Keras' and ours, the same under both backends
def test_interrupted_run_resumes(built_dataset, tmp_path):
    workdir = str(tmp_path / "run")
    args = ["--workdir", workdir, "--data-dir", str(built_dataset[0]), "--preset", "debug", "--epochs", "3",
            "--batch-size", "16"]
    log_csv = os.path.join(workdir, "log.csv")
    backed_up = os.path.join(workdir, "backup", "training_metadata.json")  # Keras' backup writes it last

    def first_epoch_backed_up():
        try:
            return json.load(open(backed_up))["epoch"] >= 1  # epochs done
        except (OSError, ValueError, KeyError):
            return False

    kill_when([sys.executable, "-m", "keras_tsr.train", *args], first_epoch_backed_up,
              env={"KERAS_BACKEND": BACKEND}, timeout=300)
    assert not os.path.exists(os.path.join(workdir, "DONE"))
    done = run_cli("keras_tsr.train", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(log_csv))]
    assert epochs == [0, 1, 2]  # each finished epoch once: the interrupted epoch's row was replaced
    assert "resuming at epoch" in done.stderr, done.stderr[-2000:]
    # a finished run continues when --epochs is raised
    more = run_cli("keras_tsr.train", *args[:-3], "4", *args[-2:])
    assert more.returncode == 0, more.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(log_csv))]
    assert epochs == [0, 1, 2, 3]
    assert "resuming at epoch 4 of 4" in more.stderr and "epochs 3 -> 4" in more.stderr, more.stderr[-2000:]
    # a backup cut off mid-write (a kill while saving) falls back to the previous epoch's
    latest = os.path.join(workdir, "backup", "latest.weights.h5")
    with open(latest, "r+b") as f:
        f.truncate(1000)
    more = run_cli("keras_tsr.train", *args[:-3], "5", *args[-2:])
    assert more.returncode == 0, more.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(log_csv))]
    assert epochs == [0, 1, 2, 3, 4]  # resumed from the epoch-3 backup, redoing epoch 3 (its old row dropped)


@pytest.mark.slow
@pytest.mark.backend_independent
def test_divergence_stops_keeps_the_checkpoint_and_resumes_with_a_lower_rate(built_dataset, tmp_path):
    from keras_tsr.artifacts import Workdir
    from keras_tsr.train import TrainConfig, TrainingDivergedError, train_and_evaluate

    wd = Workdir(tmp_path / "run")
    base = dict(data_dir=str(built_dataset[0]), preset="debug", batch_size=16, steps_per_epoch=3)
    train_and_evaluate(TrainConfig(epochs=1, **base), wd.path)
    before = _weights(wd.best_model_path)
    with pytest.raises(TrainingDivergedError, match=r"loss became (nan|inf) at epoch 2, step \d+.*Lower --learning-rate"):
        train_and_evaluate(TrainConfig(epochs=2, learning_rate=1e30, **base), wd.path)
    after = _weights(wd.best_model_path)
    assert all(np.array_equal(a, b) and np.all(np.isfinite(a)) for a, b in zip(before, after, strict=True))
    assert [int(r["epoch"]) for r in wd.log_rows()] == [0]  # nothing of the diverged epoch was logged
    train_and_evaluate(TrainConfig(epochs=2, learning_rate=1e-3, **base), wd.path)
    assert [int(r["epoch"]) for r in wd.log_rows()] == [0, 1]  # resumed at epoch 2, not restarted
    assert wd.read_config()["learning_rate"] == 1e-3


@pytest.mark.backend_independent  # refusing and reporting are ours, not the backend's
def test_second_training_on_one_workdir_is_refused(built_dataset, tmp_path):
    from keras_tsr.artifacts import Workdir, WorkdirError

    wd = Workdir(tmp_path / "run")
    with wd.lock():
        proc = run_cli("keras_tsr.train", "--workdir", wd.path, "--data-dir", str(built_dataset[0]), "--preset",
                       "debug", "--epochs", "1")
        assert proc.returncode == 2 and "in use by another training" in proc.stderr, proc.stderr[-2000:]
        with pytest.raises(WorkdirError, match="in use"):
            with wd.lock():
                pass
    with wd.lock():  # released
        pass


@pytest.mark.slow
@pytest.mark.backend_independent
@pytest.mark.parametrize("loader", ["tf", "grain"])
def test_a_killed_recipe_run_resumes_its_cosine_schedule(built_clip_dataset, tmp_path, loader):
    """The small-data recipe (random crops) with AdamW, label smoothing and cosine with warm-up, killed after an
    epoch and rerun: each epoch's learning rate is the uninterrupted run's (the schedule continued where it
    stopped), and so are its log and its final weights."""
    from keras_tsr.train import TrainConfig, train_and_evaluate

    common = dict(dataset="fma_small_logmel/clip", data_dir=str(built_clip_dataset[0]), preset="debug", epochs=4,
                  batch_size=8, segment_seconds=5.0, augment="small_data", schedule="cosine", warmup_epochs=1.0,
                  weight_decay=0.01, label_smoothing=0.1, loader=loader)
    train_and_evaluate(TrainConfig(**common), str(tmp_path / "whole"))
    whole = {int(r["epoch"]): float(r["lr"]) for r in csv.DictReader(open(tmp_path / "whole" / "log.csv"))}
    # logged at the end of each epoch: the peak after the warm-up epoch, then down to 0 at the last step
    assert sorted(whole) == [0, 1, 2, 3] and whole[0] > whole[1] > whole[2] > whole[3] >= 0

    workdir = str(tmp_path / "killed")
    args = ["--workdir", workdir, "--dataset", common["dataset"], "--data-dir", common["data_dir"], "--preset",
            "debug", "--epochs", "4", "--batch-size", "8", "--segment-seconds", "5", "--augment", "small_data",
            "--schedule", "cosine", "--warmup-epochs", "1", "--weight-decay", "0.01", "--label-smoothing", "0.1",
            "--loader", loader]
    proc = subprocess.Popen([sys.executable, "-m", "keras_tsr.train", *args], env={**os.environ, "KERAS_BACKEND": BACKEND},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metadata = os.path.join(workdir, "backup", "training_metadata.json")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not os.path.exists(metadata):
        time.sleep(0.1)
    assert proc.poll() is None, "training finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = run_cli("keras_tsr.train", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = {int(r["epoch"]): float(r["lr"]) for r in csv.DictReader(open(os.path.join(workdir, "log.csv")))}
    assert sorted(resumed) == [0, 1, 2, 3]
    np.testing.assert_allclose([resumed[e] for e in range(4)], [whole[e] for e in range(4)], rtol=1e-5)
    assert "resuming at epoch" in done.stderr, done.stderr[-2000:]
    # the same result as the uninterrupted run: the same log and the same final weights, to the bit (each
    # epoch's order, crops, masks, mixup pairs and dropout drawn from the seed and the epoch alone)
    assert list(csv.DictReader(open(os.path.join(workdir, "log.csv")))) == list(
        csv.DictReader(open(tmp_path / "whole" / "log.csv")))
    final = [_h5_arrays(os.path.join(w, "backup", "latest.weights.h5")) for w in (workdir, str(tmp_path / "whole"))]
    assert len(final[0]) == len(final[1]) > 10
    assert all(np.array_equal(a, b) for a, b in zip(*final, strict=True))
    lines = [line for line in done.stderr.splitlines() if "epoch " in line and "/4:" in line]
    assert lines and all(len(line) < 200 and "val_acc_" not in line for line in lines)  # the readable line
