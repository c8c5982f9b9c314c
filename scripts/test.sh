#!/usr/bin/env bash
# Installs everything into .venv and runs the whole test suite under JAX, then TensorFlow.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m slow`).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh || exit 1
status=0
for backend in jax tensorflow; do
  echo "=== pytest under KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q -p no:randomly --durations=15 "$@"
  rc=$?
  # exit 5: no tests collected (e.g. a -k filter that matches nothing) is not a failure
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=$rc; fi
done
exit $status
