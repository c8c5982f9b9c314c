import numpy as np
import pytest
import soundfile as sf

from keras_tsr import audio
from keras_tsr.artifacts import open_model
from keras_tsr.predict import GenreModel, ModelError, expand_inputs, format_table, predict_paths
from keras_tsr.testing import realistic_signal


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    out = tmp_path_factory.mktemp("songs")
    sf.write(out / "a.wav", realistic_signal(20.0, 48000, seed=1) * 0.2, 48000)
    x = realistic_signal(3.0, 22050, seed=2) * 0.2
    sf.write(out / "b.flac", np.stack([x, x], 1), 22050)
    (out / "notes.txt").write_text("not audio")
    (out / "bad.mp3").write_bytes(b"not an mp3 at all" * 10)
    return out


def test_geometry_comes_from_the_model(tiny_workdir):
    g = open_model(tiny_workdir.path).geometry
    assert g.segment_seconds == 6.0 and g.frames == 256
    model = GenreModel(tiny_workdir.path)
    assert model.geometry == g and model.class_names == ["Folk", "Pop", "Rock"]


def test_predict_file_uses_the_model_segments(tiny_workdir, songs):
    model = GenreModel(tiny_workdir.path)
    r = model.predict_file(songs / "a.wav", top_k=2)
    # 20 s at 6 s segments, 50% overlap: floor((20 - 6) / 3 + 0.5) + 1 = 6
    assert r["segments"] == audio.num_segments(20 * 44100, audio.segment_samples(6.0)) == 6
    assert abs(sum(r["probabilities"].values()) - 1) < 1e-4 and len(r["top_k"]) == 2
    assert r["genre"] == r["top_k"][0][0]
    assert model.predict_file(songs / "b.flac")["segments"] == 1  # shorter than a segment: one padded segment


def test_predict_paths_reports_bad_files_and_goes_on(tiny_workdir, songs, tmp_path):
    out = list(predict_paths([str(songs), str(tmp_path / "missing.wav")], tiny_workdir.path, progress=False))
    ok = sorted(r["file"].rsplit("/", 1)[-1] for s, r in out if s == "ok")
    errors = [item for s, item in out if s == "error"]
    assert ok == ["a.wav", "b.flac"]
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in errors) == ["bad.mp3", "missing.wav"]
    assert all(msg.count("\n") == 0 for _, msg in errors)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelError, match="is not a model folder keras-tsr opens"):
        GenreModel(str(tmp_path))


def test_expand_inputs_and_table(songs, tmp_path):
    files, errors = expand_inputs([str(songs), str(tmp_path)])
    assert [f.rsplit("/", 1)[-1] for f in files] == ["a.wav", "b.flac", "bad.mp3"]
    assert len(errors) == 1 and "no audio files" in errors[0][1]
    table = format_table([{"file": "x" * 60, "genre": "Rock", "probability": 0.5, "top_k": [["Rock", 0.5]]}], 1)
    assert table.splitlines()[1].startswith("...") and "Rock 0.50" in table


@pytest.mark.parametrize("batch_segments,workers", [(None, None), (16, 1)])
def test_predict_paths_matches_predict_file_however_it_batches(tiny_workdir, songs, batch_segments, workers):
    model = GenreModel(tiny_workdir.path)
    out = [r for s, r in predict_paths([str(songs)], tiny_workdir.path, progress=False,
                                       batch_segments=batch_segments, workers=workers) if s == "ok"]
    assert len(out) == 2
    for r in out:
        one = model.predict_file(r["file"])
        assert r["segments"] == one["segments"] and r["genre"] == one["genre"]
        assert max(abs(r["probabilities"][k] - one["probabilities"][k]) for k in one["probabilities"]) < 1e-4


def test_a_long_file_streamed_gives_the_same_probabilities(tiny_workdir, tmp_path, monkeypatch):
    """Files over STREAM_SECONDS are read in blocks; per-segment probabilities equal the in-memory path's within
    1e-5 (here with the threshold lowered, so a 40 s file at 8 kHz, as an hour-long mix is stored, is streamed)."""
    from keras_tsr.audio import streaming

    path = tmp_path / "mix.wav"
    sf.write(path, realistic_signal(40.0, 8000, seed=4), 8000)
    model = GenreModel(tiny_workdir.path)
    whole = model.segment_probabilities(model.file_segments(str(path)))
    monkeypatch.setattr(streaming, "STREAM_SECONDS", 30.0)
    monkeypatch.setattr(streaming, "BLOCK_SECONDS", 6.1)
    assert streaming.is_long(str(path))
    (status, result), = predict_paths([str(path)], model, progress=False, segments=True)
    streamed = np.array([[s["probabilities"][n] for n in model.class_names] for s in result["timeline"]])
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    assert [s["start"] for s in result["timeline"][:3]] == pytest.approx([0.0, 2.995, 5.99], abs=0.01)


def test_segments_table_csv_and_plot(tiny_workdir, songs, tmp_path):
    from click.testing import CliRunner

    from keras_tsr.cli import main

    song = str(songs / "a.wav")
    out, plot = tmp_path / "res.csv", tmp_path / "plot.png"
    result = CliRunner().invoke(main, ["predict", song, "--model", str(tiny_workdir.path), "--segments", "-o",
                                       str(out), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    model = GenreModel(tiny_workdir.path)
    n = len(model.file_segments(song))
    rows = out.read_text().splitlines()
    assert rows[0] == "file,start,end,genre,probability,Folk,Pop,Rock" and len(rows) == 1 + n
    assert sum(1 for ln in result.stdout.splitlines() if ln.startswith("  0:")) == n  # a row a segment
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = CliRunner().invoke(main, ["predict", song, str(songs / "b.flac"), "--model", str(tiny_workdir.path),
                                       "--plot", str(tmp_path / "one.png")])
    assert result.exit_code == 2 and "give a folder" in result.output


def test_similar_refuses_a_query_model_that_embeds_differently(tiny_workdir, songs, tmp_path):
    """An index records its model; --model with another model (same architecture, other weights) or another
    embedding size is refused in one line naming both; the same model in another form (its .keras file) is not."""
    from click.testing import CliRunner

    from keras_tsr.cli import main
    from keras_tsr.testing import make_untrained_workdir

    other = make_untrained_workdir(str(tmp_path / "other"), seed=1)
    wider = make_untrained_workdir(str(tmp_path / "wider"), preset="demo")
    index = tmp_path / "index.npz"
    run = CliRunner().invoke
    assert run(main, ["embed", str(songs / "a.wav"), str(songs / "b.flac"), "--model", str(tiny_workdir.path),
                      "-o", str(index)]).exit_code == 0
    result = run(main, ["similar", str(songs / "a.wav"), "--index", str(index), "--model", other.path])
    assert result.exit_code == 2 and "is another model" in result.output and str(tiny_workdir.path) in result.output
    result = run(main, ["similar", str(songs / "a.wav"), "--index", str(index), "--model", wider.path])
    assert result.exit_code == 2 and "embeds in 128 dimensions" in result.output, result.output
    result = run(main, ["similar", str(songs / "a.wav"), "--index", str(index), "--model",
                        tiny_workdir.best_model_path])
    assert result.exit_code == 0 and "b.flac" in result.output, result.output


def test_explain_streams_a_long_file_to_the_same_result(tiny_workdir, tmp_path, monkeypatch):
    """`tsr explain` on a long file: read in blocks and drawn from its segments, with the in-memory result's
    probabilities and attention weights (model calls of at most 16 segments)."""
    from keras_tsr.audio import streaming
    from keras_tsr.evaluate.explain import explain_file, plot

    path = tmp_path / "mix.wav"
    sf.write(path, realistic_signal(60.0, 22050, seed=5), 22050)
    whole = explain_file(str(path), tiny_workdir.path)
    monkeypatch.setattr(streaming, "STREAM_SECONDS", 30.0)
    streamed = explain_file(str(path), tiny_workdir.path)
    assert len(whole["probabilities"]) == len(streamed["probabilities"]) > 16
    for key in ("probabilities", "time_weights", "freq_weights"):
        np.testing.assert_allclose(streamed[key], whole[key], atol=1e-5)
    assert streamed["clip_db"].shape[0] == whole["clip_db"].shape[0]
    assert plot(streamed, str(tmp_path / "mix.png"))
