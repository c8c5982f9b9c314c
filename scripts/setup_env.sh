#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs keras-tsr with its test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.keras-tsr-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --quiet -e ".[cpu,dev]"
  touch "$stamp"
fi
