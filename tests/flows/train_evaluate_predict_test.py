"""Train on a built FMA-shaped dataset, evaluate, and classify files with the trained workdir."""

import csv
import json
import os

import numpy as np
import pytest

from tests.flows.conftest import BACKEND, _weights, run_cli


def test_training_writes_everything(trained):
    workdir, metrics, desc = trained
    for name in ("config.json", "log.csv", "best.keras", "DONE", "eval/metrics.json", "eval/confusion_matrix.png",
                 "eval/per_genre_accuracy.png", "eval/training_curves.png"):
        assert os.path.exists(os.path.join(workdir, name)), name
    assert any(f.startswith("events") for _, _, fs in os.walk(os.path.join(workdir, "tensorboard")) for f in fs)
    config = json.load(open(os.path.join(workdir, "config.json")))
    assert config["preset"] == "debug" and config["backend"] == BACKEND and not config["demo"]
    rows = list(csv.DictReader(open(os.path.join(workdir, "log.csv"))))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    n_test = sum(1 for t in desc["tracks"] if not t["broken"] and t["split"] == "test")
    assert metrics["track"]["n"] == n_test and metrics["segment"]["n"] == 4 * n_test
    cm = np.asarray(metrics["track"]["confusion_matrix"])
    assert cm.sum() == n_test and abs(np.trace(cm) / n_test - metrics["track"]["accuracy"]) < 1e-9


@pytest.mark.backend_independent  # refusing and reporting are ours, not the backend's
def test_workdir_with_other_config_is_refused(trained, built_dataset):
    workdir, _, _ = trained
    proc = run_cli("keras_tsr.train", "--workdir", workdir, "--data-dir", str(built_dataset[0]),
                   "--preset", "debug", "--batch-size", "8", "--epochs", "2")
    assert proc.returncode == 2
    assert "another configuration" in proc.stderr and "batch_size" in proc.stderr
    assert len(proc.stderr.strip().splitlines()[-1]) < 400 and "Traceback" not in proc.stderr


def test_predict_files_workdir(trained, audio_files):
    from keras_tsr.predict import GenreModel

    workdir, _, _ = trained
    model = GenreModel(workdir)
    for name, n_segments in (("song.mp3", 4), ("song.wav", 2), ("short.flac", 1)):
        r = model.predict_file(audio_files / name, top_k=3)
        assert r["segments"] == n_segments
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-4
        assert r["genre"] == r["top_k"][0][0] and len(r["top_k"]) == 3


@pytest.mark.backend_independent  # refusing and reporting are ours, not the backend's
def test_predict_cli_reports_bad_file_and_goes_on(trained, audio_files):
    workdir, _, _ = trained
    proc = run_cli("keras_tsr.predict", str(audio_files), "--model", workdir, "--json", "--top-k", "2")
    assert proc.returncode == 1  # one file failed
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert sorted(os.path.basename(r["file"]) for r in lines) == ["short.flac", "song.mp3", "song.wav"]
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "broken.ogg" in errors[0] and "Traceback" not in proc.stderr


def test_same_seed_same_weights(built_dataset, trained, tmp_path):
    """On CPU the same seed gives the same trained weights (and the same splits: the dataset is fixed): the
    session's `trained` run (seed 0), run again."""
    from keras_tsr.train import TrainConfig, train_and_evaluate

    config = TrainConfig(data_dir=str(built_dataset[0]), preset="debug", epochs=2, batch_size=16, seed=0)
    train_and_evaluate(config, str(tmp_path / "again"))
    runs = [_weights(os.path.join(w, "best.keras")) for w in (trained[0], str(tmp_path / "again"))]
    assert len(runs[0]) > 10
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))


def test_an_ensemble_averages_its_members_and_refuses_other_data(trained, tmp_path):
    """`evaluate_ensemble` (tsr cv --seeds): the averaged probabilities of one run twice are that run's own
    metrics, each member's accuracy is listed, and a member trained on other segments is refused in one line."""
    import shutil

    from keras_tsr.evaluate import evaluate_ensemble

    workdir, metrics, _ = trained
    both = evaluate_ensemble([workdir, workdir])
    for level in ("segment", "track"):
        assert both[level]["confusion_matrix"] == metrics[level]["confusion_matrix"], level
        assert both[level]["accuracy"] == pytest.approx(metrics[level]["accuracy"])
    assert both["members"]["track_accuracy"] == pytest.approx([metrics["track"]["accuracy"]] * 2)
    other = tmp_path / "other"
    shutil.copytree(workdir, other)
    config = json.load(open(other / "config.json"))
    config["geometry"]["overlap"] = 0.75
    json.dump(config, open(other / "config.json", "w"))
    with pytest.raises(ValueError, match="trained on other data or segments"):
        evaluate_ensemble([workdir, str(other)])
