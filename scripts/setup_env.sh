#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs keras-tsr with its test tools. Idempotent.
# The install goes through uv (from PyPI, into the venv: about 15 s against pip's 75 s for the same set on a
# fresh machine, docs/benchmarks.md); pip installs the same extras where uv cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.keras-tsr-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if .venv/bin/python -m pip install --quiet --quiet uv && .venv/bin/uv --version >/dev/null 2>&1; then
    .venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[cpu,dev]"
  else
    echo "setup_env: uv not available, installing with pip" >&2
    .venv/bin/python -m pip install --quiet --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --quiet -e ".[cpu,dev]"
  fi
  touch "$stamp"
fi
