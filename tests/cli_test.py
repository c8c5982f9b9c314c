"""The click CLI: every command's --help, one bad-argument case each, and the module entry points."""

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from keras_tsr.cli import main

pytestmark = pytest.mark.backend_independent

COMMANDS = sorted(main.commands)


def test_the_commands_are_there():
    assert set(COMMANDS) == {"train", "evaluate", "predict", "export", "serve-request", "synth-fma", "demo", "cv", "check-data",
                             "explain", "experiment", "summary", "architectures", "presets", "embed",
                             "similar"}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_the_command_and_every_option(command):
    cmd = main.commands[command]
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {command}")
    assert cmd.help and cmd.help.split("\n")[0].split(":")[0] in " ".join(result.output.split())
    for param in cmd.params:
        if isinstance(param, click.Option):
            assert param.opts[0] in result.output, f"{command} --help does not list {param.opts[0]}"
            assert param.help, f"{command} {param.opts[0]} has no help text"


BAD = {
    "train": (["--epochs", "0"], "--epochs"),
    "evaluate": (["--workdir", "/no/such/workdir"], "does not exist"),
    "predict": (["song.mp3"], "--model"),
    "export": (["--workdir", "{tmp}", "--output", "{tmp}/out/1"], "not a trained keras-tsr workdir"),
    "serve-request": (["/no/such/file.mp3", "--model", "{tmp}"], "does not exist"),
    "synth-fma": (["--out", "{tmp}/x", "--tracks-per-genre", "1"], "--tracks-per-genre"),
    "demo": (["--tracks-per-genre", "1"], "--tracks-per-genre"),
    "summary": (["--architecture", "no_such_architecture"], "Unknown architecture"),
    "presets": (["--unknown-flag"], "No such option"),
    "architectures": (["--unknown-flag"], "No such option"),
    "experiment": (["tables_7"], "Invalid value for '{slice_length"),
    "cv": (["{tmp}", "--folds", "3"], "'3' is not one of"),
    "explain": (["song.mp3"], "--model"),
    "check-data": (["no_such_dataset/cfg", "--data-dir", "{tmp}"], "is not built"),
    "embed": (["song.mp3", "--model", "{tmp}", "-o", "{tmp}/emb.txt"], "the output's extension chooses its format"),
    "similar": (["song.mp3", "--index", "{tmp}/none.npz"], "no such file"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_argument_gives_one_clear_error(command, tmp_path):
    args, message = BAD[command]
    args = [a.format(tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, [command, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["architectures", "presets"])
def test_architectures_lists_every_architecture(command):
    """`tsr architectures`, and under its old name `tsr presets` (hidden from the help, kept for old scripts)."""
    from keras_tsr.models.architectures import ARCHITECTURES

    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 0 and all(name in result.output for name in ARCHITECTURES)
    assert (" presets " in CliRunner().invoke(main, ["--help"]).output) is False


@pytest.mark.parametrize("argv,prog", [
    (["-m", "keras_tsr", "--help"], "python -m keras_tsr"),
    (["-m", "keras_tsr.train", "--help"], "python -m keras_tsr.train"),
    (["-m", "keras_tsr.predict", "--help"], "python -m keras_tsr.predict"),
    (["-m", "keras_tsr.evaluate", "--help"], "python -m keras_tsr.evaluate"),
    (["-m", "keras_tsr.serve", "--help"], "python -m keras_tsr.serve"),
])
def test_module_entry_points(argv, prog):
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": "jax"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(f"Usage: {prog}")


def test_two_folds_only_with_the_fixed_protocol(tmp_path):
    """`--folds 2` is accepted; with --protocol val_fold (a validation fold besides the test fold) it is one line."""
    result = CliRunner().invoke(main, ["cv", str(tmp_path), "--folds", "2", "--protocol", "val_fold"])
    assert result.exit_code == 2 and "folds must be 5 or 10" in result.output, result.output
    assert "Traceback" not in result.output


def test_an_error_starts_its_own_line_after_an_open_progress_bar(capsys):
    """A build cut short leaves its progress bar open, its last refresh without a newline; the error line still
    starts a line (the full-disk build test reads it so)."""
    from tqdm import tqdm

    from keras_tsr.cli.common import fail as _fail

    bar = tqdm(total=12, desc="train", file=sys.stderr, mininterval=0)
    bar.update(11)
    with pytest.raises(SystemExit) as exit_info:
        _fail("no space left on the device writing x.tfrecord")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "11/12" in err
    assert [ln for ln in err.splitlines() if ln.startswith("error:")] == [
        "error: no space left on the device writing x.tfrecord"]
