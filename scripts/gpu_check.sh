#!/usr/bin/env bash
# The real commands on a GPU machine that has Python 3.12 and CUDA JAX but no TensorFlow, no Keras and no
# package registry (the lent H200s): train (JAX, bf16, the Grain loader) -> evaluate -> predict, on a small
# ArrayRecord build made beforehand, printing segments/s from training's own log.
#   bash scripts/gpu_check.sh --fetch-wheels   # here (a registry): what that machine lacks, into .whl/ (ignored)
#   bash scripts/gpu_check.sh --make-data      # here: a small synthetic ArrayRecord build into .gpu_data/ (ignored)
#   bash scripts/gpu_check.sh [--epochs N] [--preset P] [--batch-size B]   # there: install offline, run, report
# Everything it writes lands under ${OUT:-.gpu_check_out}. Runs on CPU too (a venv without TensorFlow), which is
# how it is tested before a device's time is spent on it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHL=.whl
DATA=.gpu_data
case "${1:-}" in
  --fetch-wheels)
    # Pure-Python or manylinux wheels for Python 3.12, pinned to what this checkout is tested with. The GPU
    # image already holds numpy, scipy, scikit-learn, pandas, matplotlib, h5py, jax, protobuf, etils, absl,
    # rich, click, tqdm, filelock, tensorboard, numba, joblib, msgpack, lazy-loader (docs: KINDS.md).
    rm -rf "$WHL"; mkdir -p "$WHL"
    pins=$(.venv/bin/python -m pip freeze 2>/dev/null | grep -iE '^(keras|namex|optree|grain|array.record|tensorflow.datasets|tensorflow.metadata|dm.tree|promise|simple.parsing|docstring.parser|termcolor|immutabledict|toml|googleapis.common.protos|soundfile|cffi|pycparser|soxr|librosa|audioread|pooch|decorator|platformdirs|soundfile|standard.aifc|standard.sunau|standard.chunk|audioop.lts|typing.inspection|einops|wrapt|more.itertools|dm.etils|jsonschema|portpicker)==' || true)
    [ -n "$pins" ] || { echo "gpu_check: run scripts/setup_env.sh first (the pins come from .venv)" >&2; exit 1; }
    sdist_pins=$(echo "$pins" | grep -iE '^promise==' || true)
    pins=$(echo "$pins" | grep -viE '^promise==' || true)
    # shellcheck disable=SC2086
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d "$WHL" $pins
    # promise (TFDS' download manager imports it) is published as a source archive only: built into a wheel here
    # shellcheck disable=SC2086
    "$PY" -m pip wheel --quiet --no-deps -w "$WHL" $sdist_pins
    total=$(du -sb "$WHL" | cut -f1)
    echo "gpu_check: $(ls "$WHL" | wc -l) wheels, $((total / 1000000)) MB in $WHL"
    [ "$total" -lt 60000000 ] || { echo "gpu_check: the wheels exceed 60 MB" >&2; exit 1; }
    exit 0 ;;
  --make-data)
    rm -rf "$DATA"
    KERAS_BACKEND=jax .venv/bin/python - "$DATA" <<'PYEOF'
import os, sys
from keras_tsr.data import synth
from keras_tsr.datasets import pipeline
root = sys.argv[1]
synth.write_fixture(os.path.join(root, "manual"), 7, seed=2026, overwrite=True, mono_fraction=1.0, progress=False)
pipeline.build(os.path.join(root, "manual"), "12s", os.path.join(root, "tensorflow_datasets"))
os.makedirs(os.path.join(root, "songs"), exist_ok=True)
import soundfile as sf
for i, genre in enumerate(("Rock", "Electronic", "Hip-Hop")):
    sf.write(os.path.join(root, "songs", f"{genre.lower()}.wav"), synth.render(genre, 15.0, 100 + i, 22050), 22050)
import shutil
shutil.rmtree(os.path.join(root, "manual"))  # the build is all the check needs
PYEOF
    total=$(du -sb "$DATA" | cut -f1)
    echo "gpu_check: $DATA holds $((total / 1000000)) MB"
    [ "$total" -lt 20000000 ] || { echo "gpu_check: the data exceed 20 MB" >&2; exit 1; }
    exit 0 ;;
esac
[ -d "$DATA/tensorflow_datasets" ] || { echo "gpu_check: no $DATA (bash scripts/gpu_check.sh --make-data, here)" >&2; exit 1; }
OUT=${OUT:-.gpu_check_out}
mkdir -p "$OUT"
if [ -d "$WHL" ] && ! "$PY" -c "import keras, grain, tensorflow_datasets" >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHL"/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} KERAS_BACKEND=jax KERAS_TSR_CACHE=$OUT/cache
if "$PY" -c "import tensorflow" >/dev/null 2>&1; then echo "gpu_check: note: TensorFlow is importable here"; fi
"$PY" -c "import sys, jax, keras, grain; print('python', sys.version.split()[0], 'jax', jax.__version__, 'keras', keras.__version__, 'grain', grain.__version__, jax.devices())"
set -x
"$PY" -m keras_tsr.train --backend jax --mixed-precision bf16 --data-dir "$DATA/tensorflow_datasets" \
  --workdir "$OUT/run" --epochs 3 --batch-size 32 --steps-per-execution 4 "$@" 2>&1 | tee "$OUT/train.log"
"$PY" -m keras_tsr evaluate --workdir "$OUT/run" 2>&1 | tee "$OUT/evaluate.log"
"$PY" -m keras_tsr predict "$DATA"/songs/*.wav --model "$OUT/run" 2>&1 | tee "$OUT/predict.log"
set +x
"$PY" - "$OUT/run" <<'PYEOF'
import csv, json, os, sys
run = sys.argv[1]
config = json.load(open(os.path.join(run, "config.json")))
rows = list(csv.DictReader(open(os.path.join(run, "log.csv"))))
print(f"gpu_check: loader {config['loader']}, preset {config['preset']}, batch {config['batch_size']}, "
      f"{config['mixed_precision'] or 'fp32'}, {len(rows)} epochs")
for line in open(os.path.join(os.path.dirname(run), "train.log")):
    if "segments/s training" in line:
        print("  " + line.strip().split(": ", 1)[-1])
PYEOF
