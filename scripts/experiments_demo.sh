#!/usr/bin/env bash
# Runs every experiment grid at demo scale (narrow models, 2 epochs, the synthetic demo data) under JAX and
# prints each grid's wall time: the machinery of `tsr experiment` exercised for real on a CPU.
# Usage: bash scripts/experiments_demo.sh [OUT]   (default OUT: runs/experiments_demo)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
out=${1:-runs/experiments_demo}
mkdir -p "$out"
for grid in ablation slice_length filter_height filter_width transformer_layers baselines; do
  seeds=1
  [ "$grid" = ablation ] && seeds=2
  start=$(date +%s)
  .venv/bin/python -m keras_tsr experiment "$grid" --scale demo --seeds "$seeds" --out "$out" --backend jax \
    > "$out.$grid.log" 2>&1 || { echo "experiment $grid failed; see $out.$grid.log"; tail -20 "$out.$grid.log"; exit 1; }
  test -s "$out/$grid/results.md" && test -s "$out/$grid/results.png"
  echo "experiment $grid (demo scale, $seeds seed(s)): $(( $(date +%s) - start )) s; $out/$grid/results.md"
done
