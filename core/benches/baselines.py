"""Python peers of `core/benches/baselines.rs`: the same train + predict
(horizon 28) of the target-only baselines over the same series, done
(1) per series with pandas/numpy and (2) with Nixtla statsforecast where it
has an equivalent model. Reads the series and the Rust timings written by
the Rust bench and prints medians and ratios.

Usage: python baselines.py <data-dir> [reps]   (see baselines.sh)
"""

import json
import os
import sys
import time

import numpy as np
import pandas as pd

H = 28


def naive(y):
    return np.full(H, y[-1])


def seasonal_naive(y, s=7):
    return np.resize(y[-s:], H)


def moving_average(y, w=7):
    return np.full(H, y[-w:].mean())


WMA_WEIGHTS = np.arange(1.0, 8.0)


def weighted_moving_average(y):
    return np.full(H, (WMA_WEIGHTS * y[-7:]).sum() / WMA_WEIGHTS.sum())


def seasonal_average(y, s=7, cycles=4):
    hist = y[-s * cycles:]
    n = len(hist)
    out = np.empty(H)
    for j in range(1, H + 1):
        offsets = [k * s - j for k in range(1, cycles + 1) if 0 <= k * s - j < n]
        out[j - 1] = hist[[n - 1 - o for o in offsets]].mean() if offsets else hist[-1]
    return out


def trend_design(e):
    e = np.asarray(e)
    dow = np.eye(7)[e % 7]
    month = np.eye(12)[(e // 30) % 12]
    return np.column_stack([e.astype(float), dow, month])


def trend_regression(y, alpha=1.0):
    n = len(y)
    x = trend_design(np.arange(n))
    xm, ym = x.mean(axis=0), y.mean()
    xc, yc = x - xm, y - ym
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc)
    b = ym - xm @ w
    return trend_design(np.arange(n, n + H)) @ w + b


PANDAS = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "moving_average": moving_average,
    "weighted_moving_average": weighted_moving_average,
    "seasonal_average": seasonal_average,
    "trend_regression_baseline": trend_regression,
}


def load(data_dir):
    rust = json.load(open(os.path.join(data_dir, "rust.json")))
    n_series, days = rust["n_series"], rust["days"]
    values = np.fromfile(os.path.join(data_dir, "series.f64"), dtype="<f8")
    values = values.reshape(n_series, days)
    df = pd.DataFrame({
        "unique_id": np.repeat(np.arange(n_series), days),
        "ds": np.tile(pd.date_range("2023-01-01", periods=days, freq="D"), n_series),
        "y": values.ravel(),
    })
    return rust, df


def time_pandas(df, fn, reps):
    times, checksum = [], 0.0
    for _ in range(reps):
        start = time.perf_counter()
        checksum = 0.0
        for _, y in df.groupby("unique_id", sort=False)["y"]:
            checksum += fn(y.to_numpy())[H - 1]
        times.append(time.perf_counter() - start)
    return float(np.median(times)), checksum


def time_statsforecast(df, reps):
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import (Naive, SeasonalNaive, SeasonalWindowAverage,
                                          WindowAverage)
    except Exception as error:  # pragma: no cover - reported, not hidden
        return {"error": f"statsforecast unavailable: {error!r}"}
    models = {
        "naive": lambda: Naive(),
        "seasonal_naive": lambda: SeasonalNaive(season_length=7),
        "moving_average": lambda: WindowAverage(window_size=7),
        "seasonal_average": lambda: SeasonalWindowAverage(season_length=7, window_size=4),
    }
    out = {}
    small = df[df["unique_id"] < 20]
    for name, make in models.items():
        sf = StatsForecast(models=[make()], freq="D", n_jobs=-1)
        sf.forecast(df=small, h=H)  # warm-up (numba compilation, pools)
        times = []
        for _ in range(reps):
            sf = StatsForecast(models=[make()], freq="D", n_jobs=-1)
            start = time.perf_counter()
            sf.forecast(df=df, h=H)
            times.append(time.perf_counter() - start)
        out[name] = float(np.median(times))
    return out


def main():
    data_dir = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rust, df = load(data_dir)
    print(f"\n{rust['n_series']} series x {rust['days']} days, horizon {H}; "
          f"Python medians of {reps}, Rust medians of {rust['reps']} ({rust['threads']} threads)")
    sf = time_statsforecast(df, reps)
    header = (f"{'model':<28}{'rust ms':>10}{'pandas ms':>12}{'pandas/rust':>13}"
              f"{'statsforecast ms':>18}{'sf/rust':>9}")
    print(header)
    for name, fn in PANDAS.items():
        r = rust["results"][name]["median_s"]
        p, _ = time_pandas(df, fn, reps)
        s = sf.get(name) if isinstance(sf, dict) else None
        sf_cols = (f"{s * 1e3:>18.1f}{s / r:>9.1f}" if isinstance(s, float)
                   else f"{'n/a':>18}{'':>9}")
        print(f"{name:<28}{r * 1e3:>10.1f}{p * 1e3:>12.1f}{p / r:>13.1f}{sf_cols}")
    if "error" in sf:
        print(sf["error"])


if __name__ == "__main__":
    main()
