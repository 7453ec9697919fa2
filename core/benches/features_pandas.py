"""pandas peer of `cargo bench -p forecastlab-core --bench features`.

Reads the CSV the Rust bench writes (store_id, product_id, date, quantity)
and computes the same features with pandas: per-series lags 1, 7, 14, 28
(groupby().shift()), rolling mean/std over 7 and 28 rows of the
one-row-shifted target (groupby().shift(1) then groupby().rolling()), and
calendar columns (dow/month sin-cos, quarter, weekend, month end).

Prints one line per repetition and a final `MEDIAN_MS <value>` line.
"""

import argparse
import statistics
import time

import numpy as np
import pandas as pd


def compute(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["store_id", "product_id"]
    out = pd.DataFrame(index=df.index)
    grouped = df.groupby(keys, sort=False)["quantity"]
    for k in (1, 7, 14, 28):
        out[f"lag_{k}"] = grouped.shift(k)
    shifted = out["lag_1"]
    by_series = shifted.groupby([df["store_id"], df["product_id"]], sort=False)
    for w in (7, 28):
        rolling = by_series.rolling(w, min_periods=w)
        out[f"rolling_mean_{w}"] = rolling.mean().reset_index(level=[0, 1], drop=True)
        out[f"rolling_std_{w}"] = rolling.std().reset_index(level=[0, 1], drop=True)
    dates = df["date"]
    dow = dates.dt.dayofweek.to_numpy()
    month = dates.dt.month.to_numpy()
    out["dow_sin"] = np.sin(2 * np.pi * dow / 7)
    out["dow_cos"] = np.cos(2 * np.pi * dow / 7)
    out["month_sin"] = np.sin(2 * np.pi * month / 12)
    out["month_cos"] = np.cos(2 * np.pi * month / 12)
    out["quarter"] = dates.dt.quarter
    out["is_weekend"] = (dow >= 5).astype(int)
    out["is_month_end"] = dates.dt.is_month_end.astype(int)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--check-row", type=int, default=None)
    args = parser.parse_args()
    df = pd.read_csv(args.csv, parse_dates=["date"])
    df = df.sort_values(["store_id", "product_id", "date"], kind="stable").reset_index(drop=True)
    times = []
    result = None
    for rep in range(args.reps):
        started = time.perf_counter()
        result = compute(df)
        elapsed = (time.perf_counter() - started) * 1000.0
        times.append(elapsed)
        print(f"pandas rep {rep + 1}: {elapsed:.1f} ms")
    if args.check_row is not None and result is not None:
        row = result.iloc[args.check_row]
        print("CHECK " + " ".join(f"{v:.9g}" for v in row[["lag_7", "rolling_mean_28", "rolling_std_28"]]))
    print(f"MEDIAN_MS {statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
