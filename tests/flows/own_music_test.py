"""Your own music: other segment lengths from the clip-level build, cross-validation, explain, fine-tuning."""

import json
import os

import numpy as np
import pytest

from keras_tsr import audio
from tests.flows.conftest import kill_when, run_cli


@pytest.mark.slow
@pytest.mark.backend_independent
def test_five_second_segments_from_the_clip_level_build(built_clip_dataset, audio_files, tmp_path):
    """`tsr train --dataset fma_small_logmel/clip --segment-seconds 5`, then evaluate and predict from it."""
    from keras_tsr.data import fma
    from keras_tsr.predict import GenreModel

    data_dir, desc, _ = built_clip_dataset
    workdir = str(tmp_path / "five")
    proc = run_cli("keras_tsr", "train", "--dataset", "fma_small_logmel/clip", "--segment-seconds", "5",
                   "--data-dir", str(data_dir), "--preset", "debug", "--epochs", "1", "--batch-size", "16",
                   "--workdir", workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = json.load(open(os.path.join(workdir, "config.json")))
    assert config["geometry"]["segment_seconds"] == 5.0 and config["geometry"]["frames"] == 192  # 4.46 s: cropped to a multiple of 32 frames
    metrics = json.load(open(os.path.join(workdir, "eval", "metrics.json")))
    n_test = sum(1 for t in desc["tracks"] if not t["broken"] and t["split"] == "test")
    assert metrics["track"]["n"] == n_test and metrics["segment"]["n"] == fma.segments_per_clip(5) * n_test
    r = GenreModel(workdir).predict_file(audio_files / "song.wav")  # 20 s at 5 s segments, 50% overlap
    assert r["segments"] == 7


@pytest.mark.slow  # about 2.5 min a backend: CI runs it (`scripts/test.sh -m "slow and not demo"`)
@pytest.mark.backend_independent
def test_cv_then_explain_then_fine_tune(my_music, trained, tmp_path):
    """`tsr cv` on a GTZAN-shaped folder (2 folds, killed with SIGKILL in the second, then run again), `tsr explain`
    on one of its files, and fine-tuning an FMA-trained model on it with a frozen backbone."""
    import csv
    import sys

    out = tmp_path / "cv"
    args = ("cv", str(my_music), "--folds", "2", "--preset", "debug", "--epochs", "2", "--seeds", "1", "--out", str(out))
    backed_up = out / "fold1" / "backup" / "training_metadata.json"  # Keras' backup writes it last

    def fold1_epoch1_backed_up():
        try:
            return json.loads(backed_up.read_text())["epoch"] == 1  # epochs done
        except (OSError, ValueError, KeyError):
            return False

    # killed once fold 1 has finished (and backed up) its first epoch: the rerun skips fold 0 and resumes fold 1
    kill_when([sys.executable, "-m", "keras_tsr", *args], fold1_epoch1_backed_up, {"KERAS_BACKEND": "jax"},
              every=0.02)
    assert (out / "fold0" / "DONE").exists() and not (out / "fold1" / "DONE").exists()
    proc = run_cli("keras_tsr", *args, env={"KERAS_BACKEND": "jax"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("already holds the finished run") == 1, proc.stderr[-3000:]  # fold 0
    assert "resuming at epoch 2 of 2" in proc.stderr, proc.stderr[-3000:]  # fold 1
    for k in range(2):  # each fold's log holds each of its epochs once
        assert [r["epoch"] for r in csv.DictReader(open(out / f"fold{k}" / "log.csv"))] == ["0", "1"], k
    summary = json.load(open(out / "cv_results.json"))
    assert summary["folds"] == 2 and len(summary["per_fold"]) == 2
    assert sum(f["track"]["n"] for f in summary["per_fold"]) == 30  # every good file tested once
    assert np.asarray(summary["confusion_matrix"]).sum() == 30
    assert "mean ± sd" in (out / "cv_results.md").read_text() and (out / "confusion_matrix.png").exists()
    assert "track    accuracy" in proc.stdout

    # the same cv with --seeds 2: each fold's first model is the run above (reused, not retrained), a second
    # trains beside it, and the fold's result is the two averaged
    proc = run_cli("keras_tsr", *args[:-4], "--seeds", "2", *args[-2:], env={"KERAS_BACKEND": "jax"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("already holds the finished run") == 2, proc.stderr[-3000:]
    ensemble = json.load(open(out / "cv_results.json"))
    assert ensemble["training"]["seeds"] == 2
    for k in range(2):
        members = ensemble["per_fold"][k]["members_track_accuracy"]
        assert len(members) == 2 and members[0] == summary["per_fold"][k]["track"]["accuracy"]
        assert (out / f"fold{k}_seed1" / "DONE").exists() and (out / f"fold{k}_ensemble.json").exists()
        assert json.load(open(out / f"fold{k}_seed1" / "config.json"))["seed"] == 1
    assert "an ensemble of 2 seeds, each alone" in proc.stdout

    song = my_music / "genres" / "rock" / "rock.00001.au"
    png = tmp_path / "explain.png"
    proc = run_cli("keras_tsr", "explain", str(song), "--model", str(out / "fold0"), "-o", str(png))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert png.stat().st_size > 20_000

    # predict and export work on a model of your own genres as on FMA's (names and geometry from the dataset)
    from keras_tsr.predict import GenreModel
    from keras_tsr.serve.export import export_saved_model

    r = GenreModel(str(out / "fold0")).predict_file(song)
    fold0 = json.load(open(out / "fold0" / "config.json"))  # cv's defaults: the small-data recipe, 2 s segments
    assert fold0["augment"] == "small_data" and fold0["splits"]["validation"] is None
    seconds = fold0["geometry"]["segment_seconds"]
    expected = audio.num_segments(len(audio.load_audio(song)), audio.segment_samples(seconds),
                                  fold0["geometry"]["overlap"])
    assert r["genre"] in ("folk", "hiphop", "rock") and r["segments"] == expected > 1  # a 3-7 s clip
    export_saved_model(str(out / "fold0"), str(tmp_path / "export" / "1"))
    exported = GenreModel(str(tmp_path / "export" / "1")).predict_file(song)
    np.testing.assert_allclose(list(exported["probabilities"].values()), list(r["probabilities"].values()), atol=1e-4)

    from keras_tsr.data import folders
    from keras_tsr.models import load_model
    from keras_tsr.train import TrainConfig, train_and_evaluate

    fma_workdir, _, _ = trained
    config = TrainConfig(dataset="genre_folder_logmel/clip_folds", data_dir=str(out / "tfds"), epochs=1,
                         batch_size=8, splits=folders.cv_splits(0, 5, protocol="val_fold"), init_from=fma_workdir, freeze_backbone=True)
    metrics = train_and_evaluate(config, str(tmp_path / "tuned"))
    assert metrics["class_names"] == ["folk", "hiphop", "rock"]
    tuned, source = load_model(str(tmp_path / "tuned" / "best.keras")), load_model(os.path.join(fma_workdir,
                                                                                                 "best.keras"))
    assert tuned.output_shape == (None, 3) and source.output_shape == (None, 8)
    for a, b in zip(tuned.backbone.get_weights(), source.backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the frozen backbone is the FMA model's


def test_clip_level_segments_equal_the_segment_configurations(built_clip_dataset, fma_fixture):
    """(Under each backend: the input pipeline is TensorFlow's either way.) Segments cut from the clip level at load time equal what a segment configuration stores (the builder's
    clip_features of the same clip, kept to a nominal 30 s clip's segments, as float16), for every length."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from keras_tsr.data import fma
    from keras_tsr.datasets import pipeline as data

    data_dir, desc, _ = built_clip_dataset
    source = fma.FmaSource(fma_fixture[0])
    info = data.dataset_info("fma_small_logmel/clip", str(data_dir))
    assert data.is_clip_level(info) and info.metadata["nominal_seconds"] == 30.0
    stored = tfds.data_source("fma_small_logmel/clip", split="test", data_dir=str(data_dir))
    clips = [stored[i] for i in range(3)]
    for seconds in fma.SLICE_SECONDS:
        g = data.dataset_geometry(info, "fma_small_logmel/clip", seconds)
        for ex in clips:
            cut = data.cut_segments({k: tf.constant(v) for k, v in ex.items()}, g, 30.0)
            got = cut["log_mel"].numpy()
            x = audio.load_audio(source.read_audio(int(ex["track_id"])))
            want = audio.clip_features(x, float(seconds))[: fma.segments_per_clip(seconds)].astype(np.float16)
            assert got.shape == want.shape == (fma.segments_per_clip(seconds), 128, g.frames), seconds
            assert np.abs(got - want.astype(np.float32)).max() <= 0.07, (seconds, np.abs(got - want).max())
            assert cut["segment"].numpy().tolist() == list(range(len(want)))
    # and the 12 s cut equals the 12s configuration's stored examples
    stored = {(int(e["track_id"]), int(e["segment"])): e["log_mel"]
              for e in tfds.data_source("fma_small_logmel/12s", split="test", data_dir=str(data_dir))}
    ds = data.load_split("fma_small_logmel/clip", "test", str(data_dir), 64, 8, with_ids=True)
    seen = 0
    for x, _, tid in tfds.as_numpy(ds):
        for row, t in zip(x, tid):
            seen += 1
            matches = [k for k in stored if k[0] == int(t)]  # load_split's rows carry no segment index
            assert min(np.abs(row - stored[k].astype(np.float32)).max() for k in matches) <= 0.07
    assert seen == len(stored)
    for ex in clips:
        g = data.dataset_geometry(info, "fma_small_logmel/clip", 12)
        got = data.cut_segments({k: tf.constant(v) for k, v in ex.items()}, g, 30.0)["log_mel"].numpy()
        for i, seg in enumerate(got):
            np.testing.assert_allclose(seg, stored[(int(ex["track_id"]), i)].astype(np.float32), atol=0.07)
