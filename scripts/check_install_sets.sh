#!/usr/bin/env bash
# Resolves the cpu and gpu install sets with pip (nothing is installed) and checks that each holds exactly one
# TensorFlow build: tensorflow-cpu for `.[cpu]`, tensorflow (with its CUDA libraries) and jax's CUDA plugin
# for `.[gpu]`. Needs the package registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
for extra in cpu gpu; do
  "$PY" -m pip install --dry-run --quiet --ignore-installed --report "/tmp/keras_tsr_$extra.json" ".[$extra]" 2>/dev/null
  "$PY" - "$extra" <<'PYEOF'
import json, sys
extra = sys.argv[1]
import re
names = {re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower() for i in json.load(open(f"/tmp/keras_tsr_{extra}.json"))["install"]}
tf = sorted(n for n in names if n in ("tensorflow", "tensorflow-cpu"))
cuda = sorted(n for n in names if "cuda" in n)
ok = tf == (["tensorflow-cpu"] if extra == "cpu" else ["tensorflow"]) and (bool(cuda) == (extra == "gpu"))
print(f".[{extra}]: {len(names)} packages; TensorFlow builds: {tf}; CUDA packages: {len(cuda)} -> {'ok' if ok else 'WRONG'}")
sys.exit(0 if ok else 1)
PYEOF
done
