"""The whole chain on a small synthetic FMA: train, evaluate, predict, export, reload with TensorFlow alone."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import keras
import numpy as np
import pytest
import soundfile as sf

from keras_tsr import audio

BACKEND = keras.backend.backend()


def run_cli(module, *args, env=None, timeout=600):
    env = {**os.environ, "KERAS_BACKEND": BACKEND, **(env or {})}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture(scope="session")
def trained(built_dataset, tmp_path_factory):
    """A debug-preset run of 2 epochs on the built synthetic dataset, in-process."""
    from keras_tsr.train import TrainConfig, train_and_evaluate

    data_dir, desc, _ = built_dataset
    workdir = str(tmp_path_factory.mktemp("run"))
    config = TrainConfig(data_dir=str(data_dir), preset="debug", epochs=2, batch_size=16)
    metrics = train_and_evaluate(config, workdir)
    return workdir, metrics, desc


@pytest.fixture(scope="session")
def audio_files(fma_fixture, tmp_path_factory):
    """One mp3 from the fixture zip, a 44.1 kHz wav, a short 22.05 kHz stereo flac, and a broken file."""
    manual, desc = fma_fixture
    out = tmp_path_factory.mktemp("songs")
    good = next(t for t in desc["tracks"] if not t["broken"] and t["split"] == "test")
    member = f"fma_small/{good['track_id']:06d}"[:13] + f"/{good['track_id']:06d}.mp3"
    (out / "song.mp3").write_bytes(zipfile.ZipFile(manual / "fma_small.zip").read(member))
    from keras_tsr import synth

    sf.write(out / "song.wav", synth.render("Rock", 20.0, seed=5), 44100)
    x = synth.render("Folk", 4.0, seed=6, sr=22050)
    sf.write(out / "short.flac", np.stack([x, x], 1), 22050)
    (out / "broken.ogg").write_bytes(b"not audio at all")
    return out


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


def test_predict_cli_reports_bad_file_and_goes_on(trained, audio_files):
    workdir, _, _ = trained
    proc = run_cli("keras_tsr.predict", str(audio_files), "--model", workdir, "--json", "--top-k", "2")
    assert proc.returncode == 1  # one file failed
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert sorted(os.path.basename(r["file"]) for r in lines) == ["short.flac", "song.mp3", "song.wav"]
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "broken.ogg" in errors[0] and "Traceback" not in proc.stderr


FRESH_TF = textwrap.dedent("""
    import importlib.abc, importlib.machinery, json, sys

    # tensorflow imports keras when it is installed: make keras and keras_tsr unimportable,
    # as on a serving machine that has TensorFlow alone.
    class Refuse(importlib.abc.Loader):
        def create_module(self, spec):
            raise ImportError(spec.name + " is not available here")
        def exec_module(self, module):
            raise ImportError(module.__name__ + " is not available here")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("keras", "keras_tsr"):
                return importlib.machinery.ModuleSpec(name, Refuse())
            return None

    sys.meta_path.insert(0, Block())
    import numpy as np
    import tensorflow as tf
    path, feats, wave = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
    m = tf.saved_model.load(path)
    p1 = m.signatures["serving_default"](log_mel=tf.constant(feats))["probabilities"].numpy()
    out = m.signatures["serve_waveform"](waveform=tf.constant(wave[None]))
    print(json.dumps({"seg": p1.tolist(), "wave": out["probabilities"].numpy().tolist(),
                      "genre": out["genre"].numpy()[0].decode(), "segments": int(out["segments"].numpy()[0]),
                      "modules": sorted(m for m in sys.modules
                                        if m.split(".")[0] in ("keras", "keras_tsr") and sys.modules[m])}))
""")


def test_export_loads_in_fresh_tensorflow_process_and_agrees(trained, audio_files, tmp_path):
    from keras_tsr.export import ExportError, export_saved_model
    from keras_tsr.predict import GenreModel

    workdir, _, _ = trained
    out = str(tmp_path / "saved_models" / "ts_resformer" / "1")
    export_saved_model(workdir, out)
    assert os.path.exists(os.path.join(out, "saved_model.pb"))
    with pytest.raises(ExportError, match="already holds"):
        export_saved_model(workdir, out)  # no silent overwrite
    with pytest.raises(ExportError, match="version"):
        export_saved_model(workdir, str(tmp_path / "saved_models" / "latest"))

    wave = audio.load_audio(audio_files / "song.mp3")
    model = GenreModel(workdir)
    feats = audio.clip_features(wave, model.segment_seconds)
    expected_seg = model.segment_probabilities(feats)
    expected_track, n = model.predict_waveform(wave)
    np.save(tmp_path / "feats.npy", feats)
    np.save(tmp_path / "wave.npy", wave)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", FRESH_TF, out, str(tmp_path / "feats.npy"),
                           str(tmp_path / "wave.npy")], capture_output=True, text=True, env=env, timeout=300,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["modules"] == []  # TensorFlow alone: neither keras nor keras_tsr was imported
    np.testing.assert_allclose(got["seg"], expected_seg, atol=1e-4)
    np.testing.assert_allclose(got["wave"][0], expected_track, atol=1e-4)
    assert got["segments"] == n == 4
    assert got["genre"] == model.class_names[int(np.argmax(expected_track))]

    # The SavedModel as --model gives the same prediction as the workdir.
    r_saved = GenreModel(out).predict_file(audio_files / "song.mp3")
    r_keras = model.predict_file(audio_files / "song.mp3")
    np.testing.assert_allclose(list(r_saved["probabilities"].values()), list(r_keras["probabilities"].values()),
                               atol=1e-4)

    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--dir", out, "--all"], capture_output=True, text=True, timeout=300)
    assert "signature_def['serving_default']" in shown.stdout and "signature_def['serve_waveform']" in shown.stdout


def test_serve_request_bodies(trained, audio_files, tmp_path):
    from keras_tsr.cli import main

    workdir, _, _ = trained
    for signature, key in (("serve_waveform", "waveform"), ("serving_default", "log_mel")):
        target = tmp_path / f"{signature}.json"
        with pytest.raises(SystemExit) as e:
            main(["serve-request", str(audio_files / "short.flac"), "--model", workdir, "--signature", signature,
                  "-o", str(target)])
        assert e.value.code == 0
        body = json.loads(target.read_text())
        assert body["signature_name"] == signature
        arr = np.asarray(body["inputs"][key])
        assert arr.shape == ((1, 4 * 44100) if key == "waveform" else (1, 128, 512))


def test_interrupted_run_resumes(built_dataset, tmp_path):
    workdir = str(tmp_path / "run")
    args = ["--workdir", workdir, "--data-dir", str(built_dataset[0]), "--preset", "debug", "--epochs", "3",
            "--batch-size", "16"]
    env = {**os.environ, "KERAS_BACKEND": BACKEND}
    proc = subprocess.Popen([sys.executable, "-m", "keras_tsr.train", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    log_csv = os.path.join(workdir, "log.csv")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(log_csv) and len(open(log_csv).read().strip().splitlines()) >= 2:  # epoch 0 done
            break
        time.sleep(0.2)
    assert proc.poll() is None, "training finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not os.path.exists(os.path.join(workdir, "DONE"))
    done = run_cli("keras_tsr.train", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(log_csv))]
    assert epochs[0] == 0 and epochs[-1] == 2 and len(epochs) <= 4  # resumed, not restarted from scratch
    assert sorted(set(epochs)) == [0, 1, 2]
    # a finished run continues when --epochs is raised
    more = run_cli("keras_tsr.train", *args[:-3], "4", *args[-2:])
    assert more.returncode == 0, more.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(log_csv))]
    assert epochs[-1] == 3 and sorted(set(epochs)) == [0, 1, 2, 3] and len(epochs) <= 5
    # a backup cut off mid-write (a kill while saving) falls back to the previous epoch's
    latest = os.path.join(workdir, "backup", "latest.weights.h5")
    with open(latest, "r+b") as f:
        f.truncate(1000)
    more = run_cli("keras_tsr.train", *args[:-3], "5", *args[-2:])
    assert more.returncode == 0, more.stderr[-2000:]
    epochs = [int(r["epoch"]) for r in csv.DictReader(open(log_csv))]
    assert epochs[-2:] == [3, 4]  # resumed from the epoch-3 backup, redoing epoch 3


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
    proc = run_cli("keras_tsr.demo", "--workdir", str(tmp_path / "demo"), "--saved-models",
                   str(tmp_path / "saved" / "demo"), env=env, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.load(open(tmp_path / "demo" / "eval" / "metrics.json"))
    assert metrics["track"]["accuracy"] >= 0.9
    assert os.path.exists(tmp_path / "saved" / "demo" / "1" / "saved_model.pb")


def _weights(path):
    from keras_tsr.models import load_model

    return [np.asarray(w) for w in load_model(path).get_weights()]


def test_divergence_stops_keeps_the_checkpoint_and_resumes_with_a_lower_rate(built_dataset, tmp_path):
    from keras_tsr.train import TrainConfig, TrainingDivergedError, train_and_evaluate
    from keras_tsr.workdir import Workdir

    wd = Workdir(tmp_path / "run")
    base = dict(data_dir=str(built_dataset[0]), preset="debug", batch_size=16, steps_per_epoch=3)
    train_and_evaluate(TrainConfig(epochs=1, **base), wd.path)
    before = _weights(wd.best_model_path)
    with pytest.raises(TrainingDivergedError, match=r"loss became (nan|inf) at epoch 2, step \d+.*Lower --learning-rate"):
        train_and_evaluate(TrainConfig(epochs=2, learning_rate=1e30, **base), wd.path)
    after = _weights(wd.best_model_path)
    assert all(np.array_equal(a, b) and np.all(np.isfinite(a)) for a, b in zip(before, after))
    assert [int(r["epoch"]) for r in wd.log_rows()] == [0]  # nothing of the diverged epoch was logged
    train_and_evaluate(TrainConfig(epochs=2, learning_rate=1e-3, **base), wd.path)
    assert [int(r["epoch"]) for r in wd.log_rows()] == [0, 1]  # resumed at epoch 2, not restarted
    assert wd.read_config()["learning_rate"] == 1e-3


def test_second_training_on_one_workdir_is_refused(built_dataset, tmp_path):
    from keras_tsr.workdir import Workdir, WorkdirError

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


def test_same_seed_same_weights(built_dataset, tmp_path):
    """On CPU the same seed gives the same trained weights (and the same splits: the dataset is fixed)."""
    from keras_tsr.train import TrainConfig, train_and_evaluate

    config = TrainConfig(data_dir=str(built_dataset[0]), preset="debug", batch_size=16, steps_per_epoch=3,
                         epochs=1, seed=3)
    runs = []
    for name in ("a", "b"):
        train_and_evaluate(config, str(tmp_path / name))
        runs.append(_weights(str(tmp_path / name / "best.keras")))
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_five_second_segments_from_the_clip_level_build(built_clip_dataset, audio_files, tmp_path):
    """`tsr train --dataset fma_small_logmel/clip --segment-seconds 5`, then evaluate and predict from it."""
    from keras_tsr import fma
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


@pytest.fixture(scope="session")
def my_music(tmp_path_factory):
    from keras_tsr import synth

    d = tmp_path_factory.mktemp("my_music")
    synth.write_genre_folder(str(d), genres=("Folk", "Hip-Hop", "Rock"), per_genre=10, seconds=(3.0, 7.0), seed=4,
                             layout="gtzan")
    return d


@pytest.mark.slow  # about 2.5 min a backend: CI runs it (`scripts/test.sh -m "slow and not demo"`)
def test_cv_then_explain_then_fine_tune(my_music, trained, tmp_path):
    """`tsr cv` on a GTZAN-shaped folder, `tsr explain` on one of its files, and fine-tuning an FMA-trained model
    on it with a frozen backbone."""
    out = tmp_path / "cv"
    proc = run_cli("keras_tsr", "cv", str(my_music), "--folds", "5", "--preset", "debug", "--epochs", "1",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.load(open(out / "cv_results.json"))
    assert summary["folds"] == 5 and len(summary["per_fold"]) == 5
    assert sum(f["track"]["n"] for f in summary["per_fold"]) == 30  # every good file tested once
    assert np.asarray(summary["confusion_matrix"]).sum() == 30
    assert "mean ± sd" in (out / "cv_results.md").read_text() and (out / "confusion_matrix.png").exists()
    assert "track    accuracy" in proc.stdout

    song = my_music / "genres" / "rock" / "rock.00001.au"
    png = tmp_path / "explain.png"
    proc = run_cli("keras_tsr", "explain", str(song), "--model", str(out / "fold0"), "-o", str(png))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert png.stat().st_size > 20_000

    # predict and export work on a model of your own genres as on FMA's (names and geometry from the dataset)
    from keras_tsr.export import export_saved_model
    from keras_tsr.predict import GenreModel

    r = GenreModel(str(out / "fold0")).predict_file(song)
    assert r["genre"] in ("folk", "hiphop", "rock") and r["segments"] == 1  # a 3-7 s clip, 12 s segments
    export_saved_model(str(out / "fold0"), str(tmp_path / "export" / "1"))
    exported = GenreModel(str(tmp_path / "export" / "1")).predict_file(song)
    np.testing.assert_allclose(list(exported["probabilities"].values()), list(r["probabilities"].values()), atol=1e-4)

    from keras_tsr import folders
    from keras_tsr.models import load_model
    from keras_tsr.train import TrainConfig, train_and_evaluate

    fma_workdir, _, _ = trained
    config = TrainConfig(dataset="genre_folder_logmel/clip_folds", data_dir=str(out / "tfds"), epochs=1,
                         batch_size=8, splits=folders.cv_splits(0, 5), init_from=fma_workdir, freeze_backbone=True)
    metrics = train_and_evaluate(config, str(tmp_path / "tuned"))
    assert metrics["class_names"] == ["folk", "hiphop", "rock"]
    tuned, source = load_model(str(tmp_path / "tuned" / "best.keras")), load_model(os.path.join(fma_workdir,
                                                                                                 "best.keras"))
    assert tuned.output_shape == (None, 3) and source.output_shape == (None, 8)
    for a, b in zip(tuned.backbone.get_weights(), source.backbone.get_weights()):
        np.testing.assert_array_equal(a, b)  # the frozen backbone is the FMA model's


def test_clip_level_segments_equal_the_segment_configurations(built_clip_dataset, fma_fixture):
    """(Under each backend: the input pipeline is TensorFlow's either way.) Segments cut from the clip level at load time equal what a segment configuration stores (the builder's
    clip_features of the same clip, kept to a nominal 30 s clip's segments, as float16), for every length."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from keras_tsr import data, fma

    data_dir, desc, _ = built_clip_dataset
    source = fma.FmaSource(fma_fixture[0])
    info = data.dataset_info("fma_small_logmel/clip", str(data_dir))
    assert data.is_clip_level(info) and info.metadata["nominal_seconds"] == 30.0
    clips = list(tfds.as_numpy(tfds.load("fma_small_logmel/clip", split="test", data_dir=str(data_dir)).take(3)))
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
              for e in tfds.as_numpy(tfds.load("fma_small_logmel/12s", split="test", data_dir=str(data_dir)))}
    ds = data.load_split("fma_small_logmel/clip", "test", str(data_dir), 64, 8, with_ids=True)
    seen = 0
    for x, _, tid in tfds.as_numpy(ds):
        for row, t in zip(x, tid):
            seen += 1
            matches = [k for k in stored if k[0] == int(t)]
            assert matches
    assert seen == len(stored)
    for ex in clips:
        g = data.dataset_geometry(info, "fma_small_logmel/clip", 12)
        got = data.cut_segments({k: tf.constant(v) for k, v in ex.items()}, g, 30.0)["log_mel"].numpy()
        for i, seg in enumerate(got):
            np.testing.assert_allclose(seg, stored[(int(ex["track_id"]), i)].astype(np.float32), atol=0.07)
