"""Every script in scripts/ is held to the package it uses: each explains itself with --help, the shell scripts
parse, and every name a script takes from keras_tsr (in its own code and in the code it hands to child
processes) exists, so a moved or renamed function breaks this test, not a user's benchmark. The scripts that
measure are run at a tiny size by their own tests (bench_gpu: tests/studies_test.py)."""

import ast
import importlib
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.backend_independent

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
PY = sorted(f for f in os.listdir(SCRIPTS) if f.endswith(".py"))
SH = sorted(f for f in os.listdir(SCRIPTS) if f.endswith(".sh"))


def _trees(path):
    """The script's syntax tree and those of the Python programs it holds as strings (children's code)."""
    tree = ast.parse(open(path).read())
    yield tree
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "keras_tsr" in node.value:
            for text in (node.value, node.value.replace("; ", "\n")):
                try:
                    yield ast.parse(text)
                    break
                except SyntaxError:
                    continue


def _references(path):
    """(module, name or None) for every `from keras_tsr... import name`, `import keras_tsr...` and
    `keras_tsr.a.b` attribute chain in the script."""
    refs = set()
    for tree in _trees(path):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras_tsr"):
                refs.update((node.module, a.name) for a in node.names)
            elif isinstance(node, ast.Import):
                refs.update((a.name, None) for a in node.names if a.name.startswith("keras_tsr"))
            elif isinstance(node, ast.Attribute):
                chain, n = [], node
                while isinstance(n, ast.Attribute):
                    chain.append(n.attr)
                    n = n.value
                if isinstance(n, ast.Name) and n.id == "keras_tsr":
                    chain.reverse()
                    refs.add(("keras_tsr." + ".".join(chain[:-1]) if chain[:-1] else "keras_tsr", chain[-1]))
    return refs


def _resolves(module, name):
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        parent, _, attr = module.rpartition(".")  # keras_tsr.runtime.child_env as an attribute chain
        return bool(parent) and _resolves(parent, attr) and (name is None or hasattr(
            getattr(importlib.import_module(parent), attr), name))
    if name is None or hasattr(mod, name):
        return True
    try:
        importlib.import_module(f"{module}.{name}")  # a submodule
        return True
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("script", PY)
def test_every_name_a_script_takes_from_the_package_exists(script):
    refs = _references(os.path.join(SCRIPTS, script))
    missing = sorted(f"{m}.{n}" if n else m for m, n in refs if not _resolves(m, n))
    assert not missing, f"{script} uses names keras_tsr does not have: {missing}"


def test_the_check_finds_a_moved_function(tmp_path):
    """What the check is for: bench_predict.py once called keras_tsr.child_env after it moved to runtime."""
    script = tmp_path / "old.py"
    script.write_text('import keras_tsr\nCHILD = "from keras_tsr.predict import GenreModel, predict_file"\n'
                      'env = keras_tsr.child_env("jax")\n')
    refs = _references(str(script))
    assert ("keras_tsr", "child_env") in refs and ("keras_tsr.predict", "predict_file") in refs
    assert not _resolves("keras_tsr", "child_env") and not _resolves("keras_tsr.predict", "predict_file")
    assert _resolves("keras_tsr.runtime", "child_env")


@pytest.mark.parametrize("script", PY)
def test_every_python_script_explains_itself(script):
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, script), "--help"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"}, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("usage:"), proc.stderr[-2000:]


@pytest.mark.parametrize("script", SH)
def test_every_shell_script_parses(script):
    proc = subprocess.run(["bash", "-n", os.path.join(SCRIPTS, script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
