#!/usr/bin/env bash
# Creates .venv with the newest tested Python on the machine (3.12, else 3.11: CI runs the suite on 3.12 with
# JAX 0.12 and an install-and-smoke run on 3.11, which keeps JAX 0.10.2) and installs keras-tsr with its test
# tools. Idempotent.
# pyenv's versions are found even where its python3.12 shim is not active (the shim then says "not found").
# PYTHON=/path/to/python picks one; VENV=DIR and EXTRAS=cpu,dev choose the folder and the extras.
# The install goes through uv (from PyPI, into the venv: about 15 s against pip's 75 s for the same set on a
# fresh machine, docs/benchmarks.md); pip installs the same extras where uv cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-cpu,dev}

supported() {  # prints the interpreter if it runs and is 3.11-3.13
  "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1 && echo "$1"
}

newest_python() {
  for minor in 12 11; do
    for cand in "python3.$minor" "$(pyenv root 2>/dev/null)"/versions/3."$minor".*/bin/python3."$minor"; do
      if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && supported "$cand"; then return 0; fi
    done
  done
  supported python3 || { echo "setup_env: no Python 3.11-3.13 found (install one, or set PYTHON)" >&2; return 1; }
}

if [ ! -x "$VENV/bin/python" ]; then
  PY=${PYTHON:-$(newest_python | head -1)}
  echo "setup_env: $("$PY" --version) ($PY) into $VENV" >&2
  "$PY" -m venv "$VENV"
fi
stamp=$VENV/.keras-tsr-installed-$EXTRAS
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if "$VENV/bin/python" -m pip install --quiet --quiet uv && "$VENV/bin/uv" --version >/dev/null 2>&1; then
    "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -e ".[$EXTRAS]"
  else
    echo "setup_env: uv not available, installing with pip" >&2
    "$VENV/bin/python" -m pip install --quiet --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --quiet -e ".[$EXTRAS]"
  fi
  touch "$stamp"
fi
