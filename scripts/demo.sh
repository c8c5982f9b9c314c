#!/usr/bin/env bash
# Installs everything into .venv and runs the main job on the built-in demo data:
# build the synthetic FMA-shaped demo set, train, evaluate, export, predict.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m keras_tsr demo "$@"
