"""Embeddings, similarity search, ONNX / LiteRT / preset exports, and every model form where a model is asked for."""

import json
import os
import sys
import types
import zipfile

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from keras_tsr.data import fma
from tests.flows.conftest import run_cli


def _cli(*args):
    from keras_tsr.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="session")
def fixture_tracks(fma_fixture, tmp_path_factory):
    """Every good track of the FMA fixture as an mp3 file, with its genre."""
    manual, desc = fma_fixture
    out = tmp_path_factory.mktemp("fixture_tracks")
    archive = zipfile.ZipFile(manual / "fma_small.zip")
    genres = {}
    for t in desc["tracks"]:
        if not t["broken"]:
            path = out / f"{t['track_id']:06d}.mp3"
            path.write_bytes(archive.read(fma.zip_member("small", t["track_id"])))
            genres[str(path)] = t["genre"]
    return out, genres


def test_embeddings_agree_across_forms_and_feed_the_head(trained, exported_saved_model, audio_files):
    """workdir, .keras and SavedModel give the same embedding; a segment's embedding through the head is that
    segment's probabilities, and their mean is `tsr predict`'s."""
    from keras_tsr.predict import GenreModel

    workdir = trained[0]
    song = audio_files / "song.mp3"
    by_workdir = GenreModel(workdir)
    track = by_workdir.embed(song)
    assert track.ndim == 1 and track.shape[0] > 8
    for ref in (os.path.join(workdir, "best.keras"), exported_saved_model):
        np.testing.assert_allclose(GenreModel(ref).embed(song), track, atol=1e-4)

    segs = by_workdir.embed(song, segments=True)
    np.testing.assert_allclose(segs.mean(axis=0), track, atol=1e-6)
    head = by_workdir._runner.model.get_layer("predictions")
    kernel, bias = (np.asarray(w) for w in head.get_weights())
    logits = segs @ kernel + bias
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    predicted = by_workdir.predict_file(song)
    np.testing.assert_allclose(probs.mean(axis=0), list(predicted["probabilities"].values()), atol=1e-5)
    assert len(segs) == predicted["segments"]


def test_embed_writes_every_format_and_similar_finds_the_same_genre(trained, fixture_tracks, tmp_path):
    """`tsr embed` to .npz / .parquet / .csv, then `tsr similar`: a track's neighbours are mostly its genre."""
    from keras_tsr.predict import read_embeddings

    folder, genres = fixture_tracks
    index = tmp_path / "index.npz"
    result = _cli("embed", str(folder), "--model", trained[0], "-o", str(index))
    assert result.exit_code == 0, result.output
    ids, emb, starts, meta = read_embeddings(str(index))
    assert sorted(ids) == sorted(genres) and starts is None and meta["model"] == os.path.abspath(trained[0])
    assert _cli("embed", str(folder), "--model", trained[0], "-o", str(index)).exit_code == 2  # no overwrite

    k = 3
    result = _cli("similar", *ids, "--index", str(index), "-k", str(k), "--json")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.strip().splitlines()]
    assert len(answers) == len(ids)
    same = [genres[n["id"]] == genres[a["query"]] for a in answers for n in a["neighbours"]]
    assert all(n["id"] != a["query"] for a in answers for n in a["neighbours"])  # its own row is left out
    n_genres, per_genre = len(set(genres.values())), len(genres) // len(set(genres.values()))
    chance = (per_genre - 1) / (len(genres) - 1)  # a random other track shares the genre this often
    share = float(np.mean(same))
    # a 2-epoch debug model: well above chance (the demo model's "mostly its genre" is the demo test's check)
    assert share >= 3 * chance, (share, chance, n_genres)

    # a query file not in the index is embedded with the model the index records
    query = tmp_path / "query.mp3"
    query.write_bytes(open(ids[0], "rb").read())
    result = _cli("similar", str(query), "--index", str(index), "-k", "1", "--json")
    assert result.exit_code == 0, result.output
    top = json.loads(result.output.strip().splitlines()[-1])["neighbours"][0]
    assert top["id"] == ids[0] and top["similarity"] > 0.9999

    for ext in (".parquet", ".csv"):
        out = tmp_path / f"segments{ext}"
        result = _cli("embed", ids[0], ids[1], "--model", trained[0], "-o", str(out), "--segments")
        assert result.exit_code == 0, result.output
        got_ids, got, got_starts, _ = read_embeddings(str(out))
        assert len(got) == 2 * fma.segments_per_clip(12) and got.shape[1] == emb.shape[1]
        np.testing.assert_allclose(got_starts[:3], [0.0, 5.99, 11.98], atol=0.01)  # 12 s segments, 50% overlap
        np.testing.assert_allclose(got[: len(got) // 2].mean(0), emb[ids.index(ids[0])], atol=1e-4)


@pytest.mark.backend_independent  # the exports are built under TensorFlow and checked in fresh processes
def test_onnx_litert_and_preset_exports(trained, audio_files, tmp_path, monkeypatch):
    """`tsr export --format onnx|litert|preset`, each checked in a fresh process; `tsr predict` through each
    gives the workdir's probabilities within 1e-4; the preset loads by folder, by hf:// handle, in fine-tuning."""
    from keras_tsr.predict import GenreModel

    workdir = trained[0]
    song = audio_files / "song.mp3"
    expected = GenreModel(workdir).predict_file(song)["probabilities"]
    outputs = {"onnx": tmp_path / "tsr.onnx", "litert": tmp_path / "tsr.tflite", "preset": tmp_path / "tsr_preset"}
    for fmt, out in outputs.items():
        proc = run_cli("keras_tsr", "export", "--workdir", workdir, "--format", fmt, "-o", str(out),
                       "--check-audio", str(song))
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "checked in a fresh process with" in proc.stdout
        # `tsr predict` through the file (in this process: the fresh-process load is the export's own check above)
        result = _cli("predict", str(song), "--model", str(out), "--json")
        assert result.exit_code == 0, result.output
        got = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])["probabilities"]
        np.testing.assert_allclose(list(got.values()), list(expected.values()), atol=1e-4)
        assert list(got) == list(expected)  # the class names travel with the file
    result = _cli("export", "--workdir", workdir, "--format", "onnx", "-o", str(outputs["onnx"]))
    assert result.exit_code == 2 and "already exists" in result.output  # no silent overwrite

    # the ONNX check ran onnxruntime without keras or TensorFlow in the process
    from keras_tsr.serve.check import check_export

    report = check_export(workdir, str(outputs["onnx"]))
    assert report["runtime"] == "onnxruntime" and not report["keras_loaded"] and not report["tensorflow_loaded"]

    preset = outputs["preset"]
    assert sorted(os.listdir(preset)) == ["README.md", "config.json", "metadata.json", "model.weights.h5",
                                          "preprocessor.json"]
    card = (preset / "README.md").read_text()
    metrics = json.load(open(os.path.join(workdir, "eval", "metrics.json")))
    assert f"{metrics['track']['accuracy']:.3f}" in card and f"{metrics['segment']['accuracy']:.3f}" in card
    assert "95% CI" in card and "segment_seconds" not in card and "12.0 s" in card and "License" in card

    from keras_tsr.models import GenreClassifier

    model = GenreClassifier.from_preset(str(preset))
    assert model.class_names == list(expected)
    result = _cli("explain", str(song), "--model", str(preset), "-o", str(tmp_path / "explain.png"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "explain.png").stat().st_size > 20_000

    # without onnxruntime an .onnx model is refused in one line naming the extra
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = _cli("predict", str(song), "--model", str(outputs["onnx"]))
    assert result.exit_code == 2 and "pip install 'keras-tsr[onnx]'" in result.output, result.output
    monkeypatch.delitem(sys.modules, "onnxruntime")

    # hf:// resolves through huggingface_hub's snapshot_download (replaced here by the local folder)
    calls = []
    fake = types.SimpleNamespace(snapshot_download=lambda repo_id: calls.append(repo_id) or str(preset))
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake)
    by_handle = GenreModel("hf://someone/tsr-fma").predict_file(song)["probabilities"]
    assert calls == ["someone/tsr-fma"]
    np.testing.assert_allclose(list(by_handle.values()), list(expected.values()), atol=1e-4)
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # not installed
    from keras_tsr.runtime import MissingExtraError

    with pytest.raises(MissingExtraError, match=r"kagglehub is not installed.*pip install kagglehub"):
        GenreModel("kaggle://someone/tsr/keras/fma")

    # fine-tuning from the preset: same genres, so every weight is copied
    from keras_tsr.train import loop

    fresh = GenreClassifier.from_preset("debug", num_classes=len(expected), num_frames=model.input_shape[-1])
    assert loop.initialise_from(fresh, str(preset), list(expected)) == "all"
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_every_model_form_and_code_in_a_model_refused(trained, audio_files, tmp_path):
    """`--model` takes a .keras file; a .keras file holding a Lambda layer is refused in one line (safe mode)."""

    workdir = trained[0]
    result = _cli("predict", str(audio_files / "song.wav"), "--model", os.path.join(workdir, "best.keras"))
    assert result.exit_code == 0, result.output
    assert "song.wav" in result.output

    inputs = keras.Input((128, 512))
    lam = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0)(inputs))
    folder = tmp_path / "evil"
    folder.mkdir()
    lam.save(folder / "best.keras")
    (folder / "config.json").write_text(open(os.path.join(workdir, "config.json")).read())
    result = _cli("predict", str(audio_files / "song.wav"), "--model", str(folder / "best.keras"))
    assert result.exit_code == 2
    lines = [ln for ln in result.output.strip().splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and "Lambda" in lines[0] and "safe mode" in lines[0], result.output
    result = _cli("predict", str(audio_files / "song.wav"), "--model", str(tmp_path / "nothing.onnx"))
    assert result.exit_code == 2 and "no such file" in result.output


@pytest.mark.slow
@pytest.mark.backend_independent
def test_exports_predict_without_keras_or_jax(trained, audio_files, tmp_path):
    """Predicting and embedding through an .onnx or .tflite export imports neither keras nor jax (in a fresh
    process, read from sys.modules): the export's own runtime does the inference. (A SavedModel needs
    TensorFlow, and `import tensorflow` 2.21 itself imports keras, and jax where it is installed.)"""
    import subprocess

    from keras_tsr.serve import export_model

    forms = {"onnx": str(tmp_path / "m.onnx"), "litert": str(tmp_path / "m.tflite")}
    for fmt, out in forms.items():
        export_model(trained[0], out, fmt, check=False)
    code = ("import sys; from keras_tsr.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print('LOADED', sorted(m for m in ('keras', 'jax') if m in sys.modules), e.code, file=sys.stderr)\n")
    for fmt, model in forms.items():
        for args in (["predict", str(audio_files / "song.wav"), "--model", model, "--json"],
                     ["embed", str(audio_files / "song.wav"), "--model", model, "-o", str(tmp_path / f"{fmt}.npz")]):
            proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                                  env={**os.environ, "KERAS_BACKEND": "jax"})
            assert "LOADED [] 0" in proc.stderr, (fmt, args[0], proc.stderr[-2000:])
