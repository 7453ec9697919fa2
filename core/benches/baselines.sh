#!/usr/bin/env bash
# Runs the Rust baselines bench and its Python peers (pandas/numpy per series
# and statsforecast) on the same series, and prints medians and ratios.
#   bash core/benches/baselines.sh            # 10,000 series x 730 days
#   BENCH_SERIES=500 bash core/benches/baselines.sh
# Needs: python3 with pandas, numpy, statsforecast (pip install pandas numpy statsforecast);
# PYTHON selects the interpreter.
set -euo pipefail
cd "$(dirname "$0")/../.."
export BENCH_OUT="${BENCH_OUT:-$PWD/target/bench-data}"
cargo bench -p forecastlab-core --bench baselines
"${PYTHON:-python3}" core/benches/baselines.py "$BENCH_OUT" "${BENCH_PY_REPS:-3}"
