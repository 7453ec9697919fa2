#!/usr/bin/env bash
# Side by side with statsforecast: regenerate the reference forecasts and
# timings (python, n_jobs=1), then time our models on the same folds.
#   bash benchmarks/statsforecast/run.sh
# Needs: python3 with statsforecast (pip install statsforecast); PYTHON
# selects the interpreter; SKIP_PYTHON=1 reuses the committed reference.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SKIP_PYTHON:-0}" != "1" ]; then
  "${PYTHON:-python3}" benchmarks/statsforecast/reference.py
fi
cargo bench -p forecastlab-parity --bench statistical
