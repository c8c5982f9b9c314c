"""Process set-up: TensorFlow kept off the GPUs under JAX, oneDNN per backend, and the missing-extra error."""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from keras_tsr import runtime

pytestmark = pytest.mark.backend_independent


def test_input_pipeline_hides_gpus_from_tensorflow_under_jax(monkeypatch):
    """With the gpu extra, TensorFlow (tf.data, TFDS) must not take accelerator memory from a JAX model."""
    import tensorflow as tf

    calls = []
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda devices, kind: calls.append((list(devices), kind)))
    monkeypatch.setattr(runtime, "_gpus_hidden", False)
    assert runtime.tensorflow() is tf
    assert calls == [([], "GPU")]
    runtime.tensorflow()
    assert len(calls) == 1  # once per process
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setattr(runtime, "_gpus_hidden", False)
    runtime.tensorflow()
    assert len(calls) == 1  # the TensorFlow backend keeps its GPUs


def test_a_tensorflow_child_of_a_jax_process_keeps_onednn(monkeypatch):
    monkeypatch.setattr(runtime, "_onednn_defaulted", True)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    env = runtime.child_env("tensorflow", EXTRA="1")
    assert "TF_ENABLE_ONEDNN_OPTS" not in env and env["KERAS_BACKEND"] == "tensorflow" and env["EXTRA"] == "1"
    monkeypatch.setattr(runtime, "_onednn_defaulted", False)  # set by the user: kept
    assert runtime.child_env("tensorflow")["TF_ENABLE_ONEDNN_OPTS"] == "0"


# A site-packages without TensorFlow, as `pip install keras-tsr` without an extra leaves it: an import hook that
# finds no tensorflow, installed before anything else runs.
NO_TENSORFLOW = textwrap.dedent("""
    import importlib.abc, sys
    class NoTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, NoTensorFlow())
    sys.argv[0] = "tsr"
    from keras_tsr.cli import main
    main()
""")


# what still needs TensorFlow (training and evaluation under JAX do not: tests/flows/no_tensorflow_test.py)
@pytest.mark.parametrize("argv", [
    ["train", "--demo", "--epochs", "1", "--preset", "debug", "--loader", "tf", "--workdir", "{tmp}/run"],
    ["export", "--workdir", "{tiny}", "-o", "{tmp}/saved/1"],
])
def test_without_tensorflow_a_command_names_the_extras_in_one_line(argv, tmp_path, tiny_workdir):
    argv = [a.format(tmp=tmp_path, tiny=tiny_workdir.path) for a in argv]
    env = {**os.environ, "KERAS_TSR_CACHE": str(tmp_path / "cache"), "KERAS_BACKEND": "jax"}
    proc = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *argv], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: tensorflow is not installed") and "keras-tsr[cpu]" in last, proc.stderr[-2000:]
    assert not (tmp_path / "cache").exists() and not (tmp_path / "saved").exists()  # refused before any work


@pytest.mark.backend_independent  # the JAX cache: its subprocesses run under JAX whatever the suite's backend
def test_the_compilation_cache_is_on_by_default_and_off_by_flag(tiny_workdir, tmp_path):
    """A cold `tsr predict` stores its compiled programs in $KERAS_TSR_COMPILE_CACHE; `--no-compile-cache` and
    KERAS_TSR_COMPILE_CACHE=off store none. An entry a killed process left without its -atime (JAX writes it
    second) does not stop later programs from being stored."""
    import subprocess
    import sys

    import soundfile as sf

    from keras_tsr import testing

    song = tmp_path / "song.wav"
    sf.write(song, testing.realistic_signal(8.0, 44100), 44100)
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env.update(KERAS_BACKEND="jax", JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")

    def predict(cache, *flags, audio=song, command=("predict",)):
        argv = [sys.executable, "-m", "keras_tsr", *flags, *command, str(audio), "--model", os.fspath(tiny_workdir)]
        proc = subprocess.run(argv, capture_output=True, text=True, env={**env, "KERAS_TSR_COMPILE_CACHE": cache},
                              cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc

    on, flagged = tmp_path / "on", tmp_path / "flagged"
    predict(str(on))
    assert on.is_dir() and len(os.listdir(on)) > 0
    # the state a process killed between writing an entry's program and its -atime leaves, two minutes ago
    orphan = sorted(on.glob("*-cache"))[0]
    os.remove(str(orphan)[: -len("-cache")] + "-atime")
    os.utime(orphan, (time.time() - 120, time.time() - 120))
    before = set(os.listdir(on))
    # embeddings: a program not compiled yet (probabilities and embeddings), so a new entry is written
    proc = predict(str(on), command=("embed", "-o", str(tmp_path / "emb.npz")))
    assert "compilation cache" not in proc.stderr, proc.stderr[-2000:]
    assert not orphan.exists() and set(os.listdir(on)) - before  # the orphan went; the new program was stored
    predict(str(flagged), "--no-compile-cache")
    assert not flagged.exists()
    # KERAS_TSR_COMPILE_CACHE=off: the same "no cache" the flag sets (the flag's process above stored none)
    from keras_tsr import runtime

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_TSR_COMPILE_CACHE", "off")
        assert runtime.compile_cache_dir() is None
        mp.setenv("KERAS_TSR_COMPILE_CACHE", str(on))
        assert runtime.compile_cache_dir() == str(on)


@pytest.mark.backend_independent
def test_importing_the_package_changes_no_environment():
    """`import keras_tsr` (and its subpackages) leaves os.environ as it was; `runtime.setup()`, which every entry
    point calls, is where the defaults are set."""
    import subprocess
    import sys

    code = ("import json, os, sys; before = dict(os.environ)\n"
            "import keras_tsr, keras_tsr.audio, keras_tsr.predict, keras_tsr.train, keras_tsr.serve, keras_tsr.studies\n"
            "changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))\n"
            "from keras_tsr import runtime; runtime.setup('jax')\n"
            "print(json.dumps([changed, 'JAX_COMPILATION_CACHE_DIR' in os.environ]))")
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "TF_ENABLE_ONEDNN_OPTS",
                                                            "TF_CPP_MIN_LOG_LEVEL")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    changed, cache_after_setup = json.loads(proc.stdout.strip().splitlines()[-1])
    assert changed == [] and cache_after_setup
