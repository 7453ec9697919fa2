"""statsforecast's forecasts on the real data sets of prepare.py, for the
side-by-side accuracy benchmark (tests/tests/http/real_data.rs).

Cuts the folds ForecastLab's splitter cuts for `n_splits` 5, horizon 28,
expanding, `min_train_size` = days - 5 x 28 (the last five 28-day windows),
fits each statsforecast model on every fold's training window of every
series (n_jobs=1) and writes the forecasts and wall times to reference.json
beside this file.

Usage: python3 benchmarks/real_data/reference.py --data DIR
       (DIR from prepare.py; pip install statsforecast==2.1.1)
"""

import argparse
import csv
import json
import os
import time
import warnings

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (
    MSTL,
    TSB,
    AutoARIMA,
    AutoETS,
    CrostonClassic,
    OptimizedTheta,
    SeasonalNaive,
    Theta,
)

H = 28
FOLDS = 5
SEASON = 7

# Our wire name -> statsforecast model.
MODELS = {
    "seasonal_naive": lambda: SeasonalNaive(season_length=SEASON),
    "theta": lambda: Theta(season_length=SEASON),
    "optimized_theta": lambda: OptimizedTheta(season_length=SEASON),
    "auto_ets": lambda: AutoETS(season_length=SEASON),
    "auto_arima": lambda: AutoARIMA(season_length=SEASON),
    "mstl": lambda: MSTL(season_length=SEASON),
    "croston": lambda: CrostonClassic(),
    "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1),
}


def folds(n):
    """(train_end, test_end) of each expanding fold, in order."""
    return [(n - (FOLDS - k) * H, n - (FOLDS - k - 1) * H) for k in range(FOLDS)]


def load(data):
    with open(os.path.join(data, "datasets.json")) as f:
        datasets = json.load(f)
    values = {}
    with open(os.path.join(data, "sales.csv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values.setdefault((row["store_code"], row["sku"]), []).append(
                (row["date"], float(row["quantity"]))
            )
    for d in datasets:
        d["series"] = [
            {"sku": sku, "y": [v for _, v in sorted(values[(d["store_code"], sku)])]}
            for sku in d["skus"]
        ]
    return datasets


def run(factory, dataset):
    frames = []
    n = dataset["days"]
    for k, (train_end, _) in enumerate(folds(n)):
        for s in dataset["series"]:
            frames.append(
                pd.DataFrame(
                    {
                        "unique_id": f"{s['sku']}|{k}",
                        "ds": pd.date_range(dataset["start_date"], periods=train_end, freq="D"),
                        "y": s["y"][:train_end],
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    sf = StatsForecast(models=[factory()], freq="D", n_jobs=1)
    started = time.perf_counter()
    out = sf.forecast(df=df, h=H)
    seconds = time.perf_counter() - started
    column = [c for c in out.columns if c not in ("unique_id", "ds")][0]
    forecasts = {
        uid: group.sort_values("ds")[column].tolist() for uid, group in out.groupby("unique_id")
    }
    return seconds, [
        [forecasts[f"{s['sku']}|{k}"] for k in range(FOLDS)] for s in dataset["series"]
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    result = {"horizon": H, "folds": FOLDS, "season_length": SEASON, "datasets": {}}
    for dataset in load(args.data):
        models = {}
        for name, factory in MODELS.items():
            # Warm-up on one series (numba compilation, imports).
            run(factory, {**dataset, "series": dataset["series"][:1]})
            seconds, forecasts = run(factory, dataset)
            models[name] = {
                "statsforecast": type(factory()).__name__,
                "seconds": seconds,
                "forecasts": forecasts,
            }
            print(f"{dataset['name']:14s} {name:16s} {seconds:8.3f} s", flush=True)
        result["datasets"][dataset["name"]] = {
            "skus": dataset["skus"],
            "days": dataset["days"],
            "models": models,
        }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump(result, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
