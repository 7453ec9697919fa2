"""Reference forecasts of Nixtla's statsforecast for the accuracy benchmark
of ForecastLab's statistical models.

Generates a fixed set of retail-like daily series (smooth weekly-seasonal
ones and intermittent ones, numpy seed 2024), cuts the same expanding
folds the Rust side uses (the last FOLDS windows of H days), fits each
statsforecast model on every fold's training window, and writes the
series, the folds' forecasts and the wall time of each model to
reference.json beside this file. The Rust side
(tests/tests/http/statsforecast_parity.rs and
`cargo bench -p forecastlab-parity --bench statistical`, the crate beside
this file) reads that file
and compares accuracy and speed on exactly the same data.

Usage: python benchmarks/statsforecast/reference.py   (pip install statsforecast)
"""

import json
import os
import time
import warnings

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoARIMA,
    AutoETS,
    CrostonClassic,
    CrostonSBA,
    MSTL,
    OptimizedTheta,
    SeasonalNaive,
    Theta,
)

H = 28
FOLDS = 3
DAYS = 364
SEASON = 7
N_SMOOTH = 12
N_INTERMITTENT = 12

# Our wire name -> (statsforecast model, series kind it is benchmarked on).
MODELS = {
    "seasonal_naive": (lambda: SeasonalNaive(season_length=SEASON), "smooth"),
    "theta": (lambda: Theta(season_length=SEASON), "smooth"),
    "optimized_theta": (lambda: OptimizedTheta(season_length=SEASON), "smooth"),
    "auto_ets": (lambda: AutoETS(season_length=SEASON), "smooth"),
    "mstl": (lambda: MSTL(season_length=SEASON), "smooth"),
    "auto_arima": (lambda: AutoARIMA(season_length=SEASON), "smooth"),
    "croston": (lambda: CrostonClassic(), "intermittent"),
    "croston_sba": (lambda: CrostonSBA(), "intermittent"),
    "tsb": (lambda: TSB(alpha_d=0.1, alpha_p=0.1), "intermittent"),
    "adida": (lambda: ADIDA(), "intermittent"),
    "imapa": (lambda: IMAPA(), "intermittent"),
}


def generate():
    rng = np.random.default_rng(2024)
    series = []
    t = np.arange(DAYS)
    for i in range(N_SMOOTH):
        level = rng.uniform(20, 200)
        profile = rng.uniform(0.7, 1.5, SEASON)
        trend = 1 + rng.uniform(-0.0008, 0.0015) * t
        mean = level * profile[t % SEASON] * trend
        y = rng.poisson(mean).astype(float)
        series.append({"id": f"smooth_{i}", "kind": "smooth", "y": y.tolist()})
    for i in range(N_INTERMITTENT):
        p = rng.uniform(0.1, 0.5)
        size = rng.uniform(1, 6)
        occurs = rng.random(DAYS) < p
        y = np.where(occurs, rng.poisson(size, DAYS) + 1, 0).astype(float)
        series.append({"id": f"intermittent_{i}", "kind": "intermittent", "y": y.tolist()})
    return series


def folds(n):
    """(train_end, test_end) of each expanding fold, in order."""
    return [(n - (FOLDS - k) * H, n - (FOLDS - k - 1) * H) for k in range(FOLDS)]


def run(model_factory, series):
    frames = []
    for k, (train_end, _) in enumerate(folds(DAYS)):
        for s in series:
            frames.append(
                pd.DataFrame(
                    {
                        "unique_id": f"{s['id']}|{k}",
                        "ds": pd.date_range("2023-01-02", periods=train_end, freq="D"),
                        "y": s["y"][:train_end],
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    sf = StatsForecast(models=[model_factory()], freq="D", n_jobs=1)
    started = time.perf_counter()
    out = sf.forecast(df=df, h=H)
    seconds = time.perf_counter() - started
    column = [c for c in out.columns if c not in ("unique_id", "ds")][0]
    forecasts = {}
    for uid, group in out.groupby("unique_id"):
        forecasts[uid] = group.sort_values("ds")[column].tolist()
    return seconds, [
        [forecasts[f"{s['id']}|{k}"] for k in range(FOLDS)] for s in series
    ]


def main():
    warnings.filterwarnings("ignore")
    series = generate()
    result = {
        "horizon": H,
        "folds": FOLDS,
        "season_length": SEASON,
        "series": series,
        "models": {},
    }
    for name, (factory, kind) in MODELS.items():
        chosen = [s for s in series if s["kind"] == kind]
        run(factory, chosen[:1])  # warm-up (compilation, imports)
        seconds, forecasts = run(factory, chosen)
        result["models"][name] = {
            "statsforecast": type(factory()).__name__,
            "kind": kind,
            "seconds": seconds,
            "forecasts": forecasts,
        }
        print(f"{name:16s} {seconds:8.3f} s")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
