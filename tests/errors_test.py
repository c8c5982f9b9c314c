"""One error type and the exit codes (keras_tsr.errors): what a user causes is one line and exit 2, a bug keeps its
traceback and exits 3, an interruption 130; outputs are checked before the work; names are escaped where people
read them."""

import importlib
import inspect
import os
import pkgutil

import pytest
from click.testing import CliRunner

import keras_tsr
from keras_tsr import errors
from keras_tsr.cli import main

pytestmark = pytest.mark.backend_independent


def _modules():
    for info in pkgutil.walk_packages(keras_tsr.__path__, "keras_tsr."):
        if info.name.endswith("__main__") or "_dataset_builder" in info.name:
            continue
        yield importlib.import_module(info.name)


def test_every_error_class_of_the_package_is_a_keras_tsr_error():
    """The CLI catches KerasTsrError and nothing broader: an error class outside it would end in a traceback."""
    found = {}
    for module in _modules():
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = obj
    internal = {"keras_tsr.train.callbacks.LossDiverged"}  # caught inside training, raised again as a user error
    outside = sorted(n for n, c in found.items() if not issubclass(c, errors.KerasTsrError) and n not in internal)
    assert len(found) >= 15 and not outside, outside


def _invoke(args, **kwargs):
    return CliRunner().invoke(main, args, **kwargs)


def test_a_bug_keeps_its_traceback_and_exits_3(monkeypatch):
    """A TypeError raised inside training is not a user error: its traceback is printed, exit code 3 (not 2)."""
    import keras_tsr.train

    def broken(config, workdir):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(keras_tsr.train, "train_and_evaluate", broken)
    result = _invoke(["train", "--demo", "--workdir", "unused"])
    assert result.exit_code == errors.EXIT_INTERNAL == 3, result.output
    assert "Traceback" in result.output and "TypeError: unsupported operand" in result.output
    assert "internal error" in result.output and "a bug in keras-tsr" in result.output


def test_a_value_error_deep_inside_is_a_bug_too(monkeypatch):
    """The CLI no longer catches bare ValueError around whole runs: one from Keras is a bug, with its traceback."""
    import keras_tsr.train

    def broken(config, workdir):
        raise ValueError("Arguments `target` and `output` must have the same shape")

    monkeypatch.setattr(keras_tsr.train, "train_and_evaluate", broken)
    result = _invoke(["train", "--demo", "--workdir", "unused"])
    assert result.exit_code == 3 and "Traceback" in result.output, result.output


def test_a_user_error_is_one_line_and_exits_2(monkeypatch):
    import keras_tsr.train

    def refused(config, workdir):
        raise errors.ArgumentError("--genres Polka: not in the dataset")

    monkeypatch.setattr(keras_tsr.train, "train_and_evaluate", refused)
    result = _invoke(["train", "--demo", "--workdir", "unused"])
    assert result.exit_code == errors.EXIT_REFUSED == 2
    assert result.output.strip().splitlines()[-1] == "error: --genres Polka: not in the dataset"
    assert "Traceback" not in result.output


def test_ctrl_c_exits_130(monkeypatch):
    import keras_tsr.train

    def interrupted(config, workdir):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras_tsr.train, "train_and_evaluate", interrupted)
    result = _invoke(["train", "--demo", "--workdir", "unused"])
    assert result.exit_code == errors.EXIT_INTERRUPTED == 130 and "interrupted" in result.output


def test_the_exit_code_table_is_documented():
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "robustness.md")).read()
    for code, meaning in ((0, "done"), (1, "some inputs failed"), (2, "refused"), (3, "internal error"),
                          (130, "interrupted")):
        assert f"| {code} | {meaning}" in text, (code, meaning)


@pytest.fixture()
def afile(tmp_path):
    """A plain file where a command's output folder would have to be."""
    path = tmp_path / "afile"
    path.write_text("in the way")
    return path


def _refused_before_work(result, where):
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"{where} is a file, not a folder" in lines[0], lines[0]


@pytest.mark.parametrize("command", ["embed", "export-preset", "export-onnx", "export-litert", "export-saved_model",
                                     "predict-o", "predict-plot", "explain", "train", "cv", "experiment"])
def test_an_output_under_a_file_is_refused_before_any_work(command, afile, tiny_workdir, tmp_path):
    """Each command's output is checked first: the input given is a file that does not exist, so an error about
    anything but the output would mean work was started before the output was checked."""
    missing = str(tmp_path / "no_such_song.mp3")
    out = str(afile / "out")
    fmt = command.partition("-")[2]
    args = {
        "embed": ["embed", missing, "--model", str(tiny_workdir.path), "-o", out + ".npz"],
        "predict-o": ["predict", missing, "--model", str(tiny_workdir.path), "-o", out + ".csv"],
        "predict-plot": ["predict", missing, "--model", str(tiny_workdir.path), "--plot", out],
        "explain": ["explain", missing, "--model", str(tiny_workdir.path), "-o", out + ".png"],
        "train": ["train", "--demo", "--workdir", out],
        "cv": ["cv", str(tmp_path), "--out", out],
        "experiment": ["experiment", "ablation", "--scale", "smoke", "--out", out],
    }.get(command) or ["export", "--model", str(tiny_workdir.path), "--format", fmt, "-o",
                       out + {"onnx": ".onnx", "litert": ".tflite", "saved_model": "/1"}.get(fmt, "")]
    _refused_before_work(_invoke(args), str(afile))


def test_a_folder_where_a_file_is_meant_is_refused(tiny_workdir, tmp_path):
    result = _invoke(["export", "--model", str(tiny_workdir.path), "--format", "onnx", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "ends in .onnx" not in result.output  # the suffix rule or the folder rule
    folder = tmp_path / "out.csv"
    folder.mkdir()
    result = _invoke(["predict", "x.mp3", "--model", str(tiny_workdir.path), "-o", str(folder)])
    assert result.exit_code == 2 and "is a folder: give a file name" in result.output, result.output


def test_an_unknown_preset_is_refused_before_the_demo_is_made(tmp_path, monkeypatch):
    """`tsr train --demo --preset no_such` on a fresh cache: one line, and nothing synthesised or built."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("KERAS_TSR_CACHE", str(cache))
    result = _invoke(["train", "--demo", "--preset", "no_such", "--epochs", "1", "--workdir", str(tmp_path / "r")])
    assert result.exit_code == 2 and "Unknown architecture 'no_such'" in result.output, result.output
    assert not cache.exists() or not os.listdir(cache)
    assert not (tmp_path / "r").exists()


def test_set_values_that_do_not_go_together_are_refused_before_the_demo(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("KERAS_TSR_CACHE", str(cache))
    result = _invoke(["train", "--demo", "--set", "spectral=False", "--set", "temporal=None", "--workdir",
                      str(tmp_path / "r")])
    assert result.exit_code == 2 and "At least one branch is needed" in result.output, result.output
    assert not cache.exists() or not os.listdir(cache)


def test_names_with_control_characters_are_escaped_in_tables_not_in_json():
    from keras_tsr.predict import format_table
    from keras_tsr.predict.embedding import format_neighbours
    from keras_tsr.utils import printable

    name = "two\nlines\x1b[31m.mp3"
    result = {"file": name, "genre": "Rock", "probability": 0.9, "top_k": [["Rock", 0.9]]}
    table = format_table([result], 1)
    assert len(table.splitlines()) == 2 and "two\\nlines\\x1b[31m.mp3" in table
    assert "\x1b" not in format_neighbours({"query": name, "neighbours": [{"id": name, "similarity": 1.0}]})
    assert printable("Beyoncé – Halo.mp3") == "Beyoncé – Halo.mp3"  # only control characters change


def test_error_lines_escape_control_characters(tmp_path):
    """A text file named with a newline: its error line stays one line."""
    bad = tmp_path / "bad\nname.wav"
    bad.write_text("not audio")
    from keras_tsr.audio import AudioError, decode

    with pytest.raises(AudioError) as info:
        decode(str(bad))
    import contextlib
    import io

    from keras_tsr.cli.common import input_failed as _input_failed

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        _input_failed(info.value)
    assert err.getvalue().count("\n") == 1 and "bad\\nname.wav" in err.getvalue()


def test_a_symlink_loop_gives_its_true_reason(tmp_path):
    from keras_tsr.audio import AudioError, decode
    from keras_tsr.predict import expand_inputs

    loop = tmp_path / "loop.mp3"
    os.symlink(loop, loop)
    with pytest.raises(AudioError, match="too many levels of symbolic links"):
        decode(str(loop))
    gone = tmp_path / "gone.mp3"
    os.symlink(tmp_path / "nowhere.mp3", gone)
    assert "a symbolic link to" in expand_inputs([str(gone)])[1][0][1]
