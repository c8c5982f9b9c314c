"""Several genres a track: train a multi-label model on FMA-shaped data with FMA's real genre lists, evaluate it,
classify a song, export it in every format."""

import csv
import json
import os

import numpy as np
import pytest

from tests.conftest import shared
from tests.flows.conftest import BACKEND, run_cli

# What a short training must reach on the held-out synthetic tracks (track level, macro ROC-AUC over the genres
# the test split holds both ways; chance is 0.5): the debug architecture, 5 epochs, balanced class weights.
MIN_MACRO_ROC_AUC = 0.6
LEARNS = BACKEND == "jax"  # the backend whose session run trains long enough to assert the figure


@pytest.fixture(scope="session")
def multilabel_run(multilabel_dataset, tmp_path_factory):
    from keras_tsr.train import TrainConfig, train_and_evaluate

    def make(workdir):
        # JAX: the run whose learning is asserted; TensorFlow: a short run of the same path (for CI's time: the
        # full run takes about 100 s there, and reached 0.792, docs/multilabel.md)
        short = {} if LEARNS else {"epochs": 1, "steps_per_epoch": 2}
        config = TrainConfig(**{"dataset": "fma_small_logmel/clip_multilabel", "data_dir": str(multilabel_dataset[0]),
                                "preset": "debug", "epochs": 5, "batch_size": 8, "class_weight": "balanced",
                                "steps_per_execution": 4, **short})
        return str(workdir), train_and_evaluate(config, str(workdir))

    return shared(tmp_path_factory, f"multilabel_run_{BACKEND}", make)


@pytest.fixture(scope="session")
def tagged_song(tmp_path_factory):
    import soundfile as sf

    from keras_tsr.data import synth_music

    path = tmp_path_factory.mktemp("tagged") / "rock_with_marks.wav"
    sf.write(path, synth_music.render("Rock", 14.0, seed=4, traits=[25, 314]), 44100)
    return str(path)


def test_a_multilabel_run_learns_the_genres_and_reports_the_fields_metrics(multilabel_run):
    workdir, metrics = multilabel_run
    for name in ("eval/metrics.json", "eval/per_genre_average_precision.png", "eval/training_curves.png", "DONE"):
        assert os.path.exists(os.path.join(workdir, name)), name
    config = json.load(open(os.path.join(workdir, "config.json")))
    assert config["task"] == "multilabel" and config["target"] == "genres_all"
    assert len(config["class_names"]) == len(config["genre_vocabulary"]) > 8
    assert "val_auc" in next(csv.DictReader(open(os.path.join(workdir, "log.csv"))))
    assert metrics["task"] == "multilabel" and 0 < metrics["threshold"] < 1
    track, segment = metrics["track"], metrics["segment"]
    assert track["n"] == 8 and segment["n"] == 4 * 8
    if LEARNS:
        assert track["macro_roc_auc"] > MIN_MACRO_ROC_AUC, track
    else:  # one short epoch: it trained, evaluated and scored, on the same path
        assert 0 <= track["macro_roc_auc"] <= 1 and len(list(csv.DictReader(open(os.path.join(workdir,
                                                                                              "log.csv"))))) == 1
    for key in ("macro_roc_auc", "macro_average_precision", "micro_f1"):
        lo, hi = track["ci95"][key]
        assert lo <= track[key] <= hi
    for key in ("micro_roc_auc", "macro_f1", "hierarchical_f1", "top_level_accuracy"):
        assert 0 <= track[key] <= 1
    assert len(track["per_genre_average_precision"]) == len(config["class_names"])
    from keras_tsr.artifacts import Workdir

    model = Workdir(workdir).load_best_model(for_inference=False)  # --class-weight balanced: the weighted loss
    assert type(model.loss).__name__ == "WeightedBinaryCrossentropy" and max(model.loss.positive_weights) > 1


def test_predict_lists_the_top_genres_and_those_over_the_threshold_with_their_parents(multilabel_run, tagged_song):
    workdir, metrics = multilabel_run
    proc = run_cli("keras_tsr", "predict", tagged_song, "--model", workdir, "-k", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(result["top_k"]) == 2 and result["task"] == "multilabel"
    assert result["threshold"] == pytest.approx(metrics["threshold"])
    config = json.load(open(os.path.join(workdir, "config.json")))
    titles = {g["id"]: g["title"] for g in config["genre_vocabulary"]}
    parent = {g["title"]: titles.get(g["parent"]) for g in config["genre_vocabulary"]}
    over = [g for g in result["genres"]]
    assert [g["genre"] for g in over] == [n for n, p in sorted(result["probabilities"].items(), key=lambda kv: -kv[1])
                                          if p >= metrics["threshold"]]
    assert all(g["parent"] == parent[g["genre"]] for g in over)
    from keras_tsr.predict import format_table

    table = format_table([result], 2)  # what the command prints without --json
    assert "over the threshold" in table and all(g["genre"] in table.splitlines()[1] for g in over)


@pytest.mark.slow  # CI's slow pass: four exports (about 45 s)
@pytest.mark.backend_independent  # the exports are built under TensorFlow, in their own processes
def test_every_export_of_a_multilabel_model_names_its_task_labels_and_threshold(multilabel_run, tagged_song,
                                                                               tmp_path):
    from keras_tsr.artifacts import open_model
    from keras_tsr.predict import GenreModel
    from keras_tsr.serve import export_model

    workdir, metrics = multilabel_run
    reference = GenreModel(workdir).predict_file(tagged_song)
    outputs = {"onnx": tmp_path / "m.onnx", "litert": tmp_path / "m.tflite", "saved_model": tmp_path / "sm" / "1",
               "preset": tmp_path / "preset"}
    for fmt, out in outputs.items():
        # checked here against the Keras model's probabilities, through the runtime each form predicts with
        # (the export's own fresh-process check of the same is what the single-label format tests run)
        export_model(workdir, str(out), fmt, check=False)
        meta = open_model(str(out)).metadata
        assert meta["task"] == "multilabel" and meta["threshold"] == pytest.approx(metrics["threshold"]), fmt
        assert meta["class_names"] == metrics["class_names"] and len(meta["genre_vocabulary"]) == len(
            metrics["class_names"]), fmt
        got = GenreModel(str(out)).predict_file(tagged_song)
        np.testing.assert_allclose(list(got["probabilities"].values()),
                                   list(reference["probabilities"].values()), atol=2e-5, err_msg=fmt)
        assert [g["genre"] for g in got["genres"]] == [g["genre"] for g in reference["genres"]], fmt
    card = (outputs["preset"] / "README.md").read_text()
    assert "macro ROC-AUC" in card and f"{metrics['threshold']:.2f}" in card


@pytest.mark.backend_independent  # drawing; the attention read under both backends: tests/predict_test.py
def test_explain_marks_the_threshold_and_the_genres_over_it(multilabel_run, tagged_song, tmp_path):
    from keras_tsr.evaluate.explain import explain_file, plot

    workdir, metrics = multilabel_run
    result = explain_file(tagged_song, workdir)
    assert result["threshold"] == pytest.approx(metrics["threshold"])
    assert result["probabilities"].shape == (1, len(metrics["class_names"]))
    out = plot(result, str(tmp_path / "explain.png"))
    assert os.path.getsize(out) > 10_000


@pytest.mark.slow  # CI's slow pass: two folds trained and evaluated, about 40 s
@pytest.mark.backend_independent  # the folds train under JAX; multi-label training under TensorFlow: above
def test_cv_of_a_labelled_collection_reports_the_multilabel_metrics(tmp_path):
    """`tsr cv` on a folder with labels.csv: multi-label folds, each fold's model scored by macro ROC-AUC, macro
    average precision and micro-F1 (at 0.5: the fixed protocol has no validation fold to tune a threshold on)."""
    from keras_tsr.data import synth_folders

    made = synth_folders.write_labelled_folder(str(tmp_path / "music"), per_genre=6, seconds=(6.0, 8.0))
    out = tmp_path / "cv"
    proc = run_cli("keras_tsr", "cv", str(tmp_path / "music"), "--folds", "2", "--architecture", "debug", "--epochs",
                   "1", "--seeds", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.load(open(out / "cv_results.json"))
    assert summary["task"] == "multilabel" and summary["keys"] == ["macro_roc_auc", "macro_average_precision",
                                                                   "micro_f1"]
    assert sum(f["track"]["n"] for f in summary["per_fold"]) == len(made)
    assert all(0 <= summary["mean"][f"track_{k}"] <= 1 for k in summary["keys"])
    assert "macro_roc_auc" in proc.stdout and "ROC-AUC" in (out / "cv_results.md").read_text()
    fold = json.load(open(out / "fold0" / "eval" / "metrics.json"))
    assert fold["threshold"] == 0.5 and fold["threshold_tuned_on"].startswith("none")


@pytest.mark.backend_independent  # refused before any Keras work
def test_class_weights_are_refused_for_one_genre_a_track_before_the_run_is_written(built_dataset, tmp_path):
    proc = run_cli("keras_tsr", "train", "--data-dir", str(built_dataset[0]), "--architecture", "debug",
                   "--epochs", "1", "--class-weight", "balanced", "--workdir", str(tmp_path / "one"))
    assert proc.returncode == 2 and "--class-weight balanced weighs the genres of a multi-label build" in proc.stderr
    assert not os.path.exists(tmp_path / "one" / "config.json")
