#!/usr/bin/env bash
# One prepared command for a GPU machine that has Python 3.12 and JAX with CUDA but neither TensorFlow nor
# Keras and no package registry: installs the carried wheels (wheels/, made beforehand on a machine with a
# registry by `bash scripts/bench_gpu.sh --fetch-wheels`), then runs scripts/bench_gpu.py (the training step
# through fit as `tsr train` runs it, bf16 and fp32, batch 256 and 32, the ablations, the fused Conv1, inference):
#   bash scripts/bench_gpu.sh --part 1/2 --json gpu1.json; bash scripts/bench_gpu.sh --part 2/2 --json gpu2.json
#   bash scripts/bench_gpu.sh --fetch-wheels     # here: download keras and its pure-Python needs into wheels/
#   bash scripts/bench_gpu.sh [bench_gpu.py args]  # there: install from wheels/, run the benchmark
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fetch-wheels" ]; then
  mkdir -p wheels
  python3 -m pip download --quiet --dest wheels --only-binary=:all: --python-version 3.12 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
    "keras>=3.15,<4" absl-py namex optree rich h5py ml-dtypes packaging markdown-it-py mdurl pygments
  ls wheels
  exit 0
fi
python3 -m pip install --quiet --no-index --find-links wheels keras 2>&1 | grep -v "^WARNING" || true
python3 -m pip install --quiet --no-index --no-deps -e . 2>/dev/null || export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
KERAS_BACKEND=jax python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices())"  # before keras: it would import TensorFlow otherwise
KERAS_BACKEND=jax python3 scripts/bench_gpu.py "$@"
