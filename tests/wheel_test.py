"""A wheel install does the main job from an empty folder: the test a new user's `pip install keras-tsr[cpu]` is.

The wheel is built from this checkout and installed (without dependencies) into a fresh virtual environment
whose only view of the dependencies is a path line to this environment's site-packages: the checkout is not on
its path, and no .pth file of this environment (the editable install's) runs there.
"""

import os
import site
import subprocess
import sys
import sysconfig

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.backend_independent]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TFDS_CLI = "import sys; from tensorflow_datasets.scripts.cli.main import launch_cli; sys.argv[0] = 'tfds'; launch_cli()"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "wheels"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), REPO],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = wheels.glob("keras_tsr-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = [p for p in {*site.getsitepackages(), sysconfig.get_paths()["purelib"]} if os.path.isdir(p)]
    with open(os.path.join(purelib, "keras_tsr_test_deps.pth"), "w") as f:
        f.write("\n".join(deps) + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    empty = root / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", KERAS_TSR_CACHE=str(root / "cache"),
               KERAS_BACKEND="jax", NO_GCE_CHECK="true", TFDS_DATA_DIR=str(root / "no_tfds_data"))

    def run(*argv, timeout=900):
        proc = subprocess.run(list(argv), capture_output=True, text=True, env=env, cwd=empty, timeout=timeout)
        assert proc.returncode == 0, f"{argv}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        return proc

    return venv, empty, run


def test_the_wheel_is_what_runs(installed):
    venv, _, run = installed
    where = run(str(venv / "bin" / "python"), "-c", "import keras_tsr, os; print(os.path.realpath(keras_tsr.__file__))")
    assert where.stdout.strip().startswith(os.path.realpath(venv)), where.stdout
    assert not where.stdout.strip().startswith(REPO)


def test_train_predict_export_from_an_empty_folder(installed):
    venv, empty, run = installed
    tsr = str(venv / "bin" / "tsr")
    proc = run(tsr, "train", "--demo", "--demo-tracks-per-genre", "3", "--epochs", "1", "--preset", "debug",
               "--workdir", "run")
    assert "track" in proc.stdout and os.path.isfile(empty / "run" / "eval" / "metrics.json")
    song = empty / "song.wav"
    run(str(venv / "bin" / "python"), "-c", "import soundfile as sf; from keras_tsr.data import synth_music; "
        f"sf.write({str(song)!r}, synth_music.render('Rock', 14.0, seed=3), 44100)")
    proc = run(tsr, "predict", str(song), "--model", "run", "--json")
    assert '"genre"' in proc.stdout
    run(tsr, "export", "--workdir", "run", "--output", "saved/1")
    assert os.path.isfile(empty / "saved" / "1" / "saved_model.pb")

    # embeddings, similar tracks, the other formats, a preset: from the wheel too
    proc = run(tsr, "embed", str(song), "--model", "run", "-o", "emb.npz")
    assert "wrote emb.npz: 1 rows" in proc.stdout
    query = empty / "query.wav"
    query.write_bytes(song.read_bytes())  # not in the index: embedded with the model the index records
    proc = run(tsr, "similar", str(query), "--index", "emb.npz", "-k", "1", "--json")
    assert '"similarity": 1' in proc.stdout or '"similarity": 0.9999' in proc.stdout, proc.stdout
    for fmt, out in (("onnx", "tsr.onnx"), ("preset", "tsr_preset")):
        proc = run(tsr, "export", "--workdir", "run", "--format", fmt, "-o", out)
        assert "checked in a fresh process" in proc.stdout
        assert '"genre"' in run(tsr, "predict", str(song), "--model", out, "--json").stdout


def test_tfds_build_by_name_with_imports(installed):
    venv, empty, run = installed
    manual = empty / "manual"
    run(str(venv / "bin" / "tsr"), "synth-fma", "--out", str(manual), "--tracks-per-genre", "3", "--compact")
    run(str(venv / "bin" / "python"), "-c", TFDS_CLI, "build", "fma_small_logmel", "--imports", "keras_tsr.datasets",
        "--config", "12s", "--manual_dir", str(manual), "--data_dir", str(empty / "tfds"),
        "--noforce_checksums_validation")
    assert (empty / "tfds" / "fma_small_logmel" / "12s").is_dir()
