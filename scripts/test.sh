#!/usr/bin/env bash
# Installs everything into .venv and runs the whole test suite under JAX, then TensorFlow.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m slow`). Tests run in parallel, a pytest-xdist worker a
# core (at most 4); TSR_TEST_WORKERS=N sets the number, 0 runs them in this process.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh || exit 1
# Session fixtures (the synthetic FMA, its builds, a trained run) are made once for every pass of this script
# (tests/conftest.py's `shared`); .ci/run passes one folder to both of its calls.
if [ -z "${TSR_TEST_SHARED_DIR:-}" ]; then
  TSR_TEST_SHARED_DIR=$(mktemp -d)
  trap 'rm -rf "$TSR_TEST_SHARED_DIR"' EXIT
fi
export TSR_TEST_SHARED_DIR
status=0
for backend in jax tensorflow; do
  echo "=== pytest under KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q -p no:randomly --durations=15 \
    -n "${TSR_TEST_WORKERS:-auto}" --maxprocesses 4 --dist worksteal "$@"
  rc=$?
  # exit 5: no tests collected (e.g. a -k filter that matches nothing) is not a failure
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=$rc; fi
done
exit $status
