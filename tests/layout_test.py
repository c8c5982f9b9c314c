"""The package's layout, read from its source (nothing is imported): imports point down the pipeline, only
entry files import the CLI, no import circle, no function over 60 lines, layers and models use keras.ops."""

import ast
import os

import pytest

pytestmark = pytest.mark.backend_independent

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras_tsr")
# The pipeline from the bottom up: a module may import its own floor and the floors below it.
FLOORS = ["errors", "defaults", "compat", "utils", "runtime", "hub", "audio", "data", "datasets", "layers", "models", "artifacts", "evaluate", "train",
          "predict", "serve", "studies", "testing", "cli"]
MAX_FUNCTION_LINES = 60


def _modules():
    out = {}
    for d, _, files in os.walk(PACKAGE):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(d, f)
                rel = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
                out[rel.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(path, module):
    """keras_tsr modules `path` imports anywhere (functions and `if __name__` blocks included), as (name, line)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "keras_tsr" and name in MODULES:
                yield name, node.lineno


def _floor(module):
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


EDGES = {m: sorted(set(_imports(p, m))) for m, p in MODULES.items()}


def test_every_module_has_a_floor():
    unplaced = sorted(m for m in MODULES if _floor(m) not in FLOORS + ["__init__", "__main__"])
    assert not unplaced, f"modules outside the layout's floors: {unplaced}"


def test_only_entry_files_import_the_cli():
    offenders = [f"{m}:{line}" for m, edges in EDGES.items() for name, line in edges
                 if name == "keras_tsr.cli" and not m.endswith("__main__")]
    assert not offenders, f"only __main__.py files may import keras_tsr.cli: {offenders}"


def test_nothing_imports_an_entry_file():
    offenders = [f"{m} -> {name}" for m, edges in EDGES.items() for name, _ in edges if name.endswith("__main__")]
    assert not offenders, offenders


def test_imports_point_down_the_pipeline():
    up = []
    for m, edges in EDGES.items():
        if m.endswith("__main__") or m == "keras_tsr":
            continue
        for name, line in edges:
            if name == "keras_tsr" or name.startswith(m + "."):  # the package root, or a parent its own children
                continue
            if FLOORS.index(_floor(name)) > FLOORS.index(_floor(m)):
                up.append(f"{m}:{line} imports {name} (floor {_floor(name)} above {_floor(m)})")
    assert not up, "\n".join(up)


def test_no_import_circle():
    graph = {m: {n for n, _ in edges if n != m and not m.startswith(n + ".")}
             for m, edges in EDGES.items()}
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                circles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not circles, [" -> ".join(c) for c in circles]


def test_no_function_runs_past_60_lines():
    long = []
    for m, path in MODULES.items():
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{m}.{node.name}: {n} lines")
    assert not long, long


def test_layers_and_models_use_keras_ops_only():
    backend_specific = []
    for m, path in MODULES.items():
        if _floor(m) in ("layers", "models"):
            for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                backend_specific += [f"{m}: {n}" for n in names
                                     if n.split(".")[0] in ("tensorflow", "jax", "torch") or n.startswith("keras.src")]
    assert not backend_specific, backend_specific


def test_the_checker_sees_an_upward_import_and_a_long_function(tmp_path, monkeypatch):
    """The checks above can fail: a planted upward import and a 61-line function are found."""
    bad = tmp_path / "keras_tsr" / "audio"
    bad.mkdir(parents=True)
    (bad / "planted.py").write_text("def f():\n    from keras_tsr.train import loop\n" + "    x = 1\n" * 59)
    path = str(bad / "planted.py")
    edges = list(_imports(path, "keras_tsr.audio.planted"))
    assert ("keras_tsr.train.loop", 2) in edges
    assert FLOORS.index(_floor("keras_tsr.train.loop")) > FLOORS.index(_floor("keras_tsr.audio.planted"))
    fn = next(n for n in ast.walk(ast.parse(open(path).read())) if isinstance(n, ast.FunctionDef))
    assert fn.end_lineno - fn.lineno + 1 == 61
