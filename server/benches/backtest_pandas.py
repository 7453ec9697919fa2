"""pandas/numpy peer of benches/backtest.rs: the same synthetic series and
the same backtest loop (splitter -> per-fold fit/forecast of six target-only
models -> MAE/RMSE/sMAPE/WAPE/bias per fold and per horizon bucket ->
aggregation and pooling), single-threaded as pandas runs it.

Run by `cargo bench -p forecastlab-server --bench backtest`, or alone:
`python3 server/benches/backtest_pandas.py` (BENCH_SERIES, BENCH_ROWS,
BENCH_PY_REPS).
"""

import math
import os
import statistics
import time

import numpy as np
import pandas as pd

WEEK = [0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.3]
BUCKETS = [("h_1_7", 1, 7), ("h_8_14", 8, 14), ("h_15_28", 15, 28), ("h_29_plus", 29, 10**9)]


def noise(i, s):
    x = math.sin(i * 12.9898 + s * 78.233) * 43758.5453
    return x - math.floor(x)


def make_frame(n_series, n_rows):
    dates = pd.date_range("2024-01-01", periods=n_rows, freq="D")
    rows = []
    for s in range(n_series):
        level = 5.0 + (s % 17)
        values = [
            round(max(level * WEEK[i % 7] + 0.01 * i + 4.0 * (noise(i, s) - 0.5), 0.0))
            for i in range(n_rows)
        ]
        rows.append(pd.DataFrame({"series": s, "date": dates, "quantity": np.array(values, dtype=float)}))
    return pd.concat(rows, ignore_index=True)


def split(n, n_splits=5, min_train=30, gap=0, horizon=28):
    if n < min_train + gap + horizon:
        raise ValueError(f"Need at least {min_train + gap + horizon}")
    test = horizon
    k = n_splits
    if n < min_train + gap + k * test:
        k = min(k, max(1, (n - min_train - gap) // test))
    step = max(1, (n - min_train - gap - test) // (k - 1)) if k > 1 else test
    folds = []
    for f in range(k):
        train_end = min_train + f * step
        test_start = train_end + gap
        if test_start + test > n:
            break
        folds.append((0, train_end, test_start, test_start + test))
    return folds


# --- models: fit on y (1-D array), forecast h steps -----------------------

def naive(y, h):
    return np.full(h, y[-1])


def seasonal_naive(y, h, s=7):
    last = y[-s:]
    return last[np.arange(h) % s]


def moving_average(y, h, w=7):
    return np.full(h, y[-w:].mean())


def weighted_moving_average(y, h, w=7):
    weights = np.arange(1, w + 1, dtype=float)
    return np.full(h, (weights * y[-w:]).sum() / weights.sum())


def seasonal_average(y, h, s=7, cycles=4):
    hist = y[-s * cycles:]
    out = np.empty(h)
    for j in range(1, h + 1):
        samples = [hist[len(hist) - 1 - (k * s - j)] for k in range(1, cycles + 1) if 0 <= k * s - j < len(hist)]
        out[j - 1] = np.mean(samples) if samples else hist[-1]
    return out


def design(e):
    x = np.zeros((len(e), 20))
    x[:, 0] = e
    x[np.arange(len(e)), 1 + e % 7] = 1.0
    x[np.arange(len(e)), 8 + (e // 30) % 12] = 1.0
    return x


def trend_regression(y, h, alpha=1.0):
    n = len(y)
    x = design(np.arange(n))
    x_mean = x.mean(axis=0)
    y_mean = y.mean()
    xc = x - x_mean
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - y_mean))
    intercept = y_mean - x_mean @ w
    return design(np.arange(n, n + h)) @ w + intercept


MODELS = [naive, seasonal_naive, moving_average, weighted_moving_average, seasonal_average, trend_regression]


def metrics(a, f):
    if len(a) == 0:
        return dict(mae=np.nan, rmse=np.nan, smape=np.nan, wape=np.nan, bias=np.nan)
    e = a - f
    denom = np.abs(a) + np.abs(f)
    both_zero = (a == 0) & (f == 0)
    terms = np.where(both_zero, 0.0, 2.0 * np.abs(e) / np.where(both_zero, 1.0, denom))
    sa = np.abs(a).sum()
    return dict(
        mae=np.abs(e).mean(),
        rmse=math.sqrt((e * e).mean()),
        smape=100.0 * terms.mean(),
        wape=math.inf if sa == 0 else 100.0 * np.abs(e).sum() / sa,
        bias=e.mean(),
    )


def aggregate(fold_metrics):
    out = {}
    for key in ("mae", "rmse", "smape", "wape", "bias"):
        values = [m[key] for m in fold_metrics if not math.isnan(m[key])]
        out[key] = float(np.mean(values)) if values else math.nan
        if len(values) < 2:
            out[key + "_stability"] = math.nan
        else:
            mean = np.mean(values)
            out[key + "_stability"] = math.inf if mean == 0 else 100.0 * np.std(values) / abs(mean)
    return out


def backtest(frame):
    pooled_abs = np.zeros(len(MODELS))
    pooled_n = np.zeros(len(MODELS))
    results = []
    for _, group in frame.groupby("series", sort=True):
        y = group["quantity"].to_numpy()
        dates = group["date"].to_numpy()
        folds = split(len(y))
        for m, model in enumerate(MODELS):
            fold_metrics = []
            bucket_metrics = []
            for (tr0, tr1, te0, te1) in folds:
                actual = y[te0:te1]
                forecast = model(y[tr0:tr1], te1 - te0)
                fold_metrics.append(metrics(actual, forecast))
                offsets = (dates[te0:te1] - dates[te0]).astype("timedelta64[D]").astype(int) + 1
                per_bucket = {}
                for name, lo, hi in BUCKETS:
                    mask = (offsets >= lo) & (offsets <= hi)
                    if mask.any():
                        per_bucket[name] = metrics(actual[mask], forecast[mask])
                bucket_metrics.append(per_bucket)
                pooled_abs[m] += np.abs(actual - forecast).sum()
                pooled_n[m] += len(actual)
            results.append((aggregate(fold_metrics), bucket_metrics))
    return pooled_abs / pooled_n, results


def main():
    n_series = int(os.environ.get("BENCH_SERIES", "1000"))
    n_rows = int(os.environ.get("BENCH_ROWS", "365"))
    reps = int(os.environ.get("BENCH_PY_REPS", "3"))
    frame = make_frame(n_series, n_rows)
    times = []
    pooled = None
    for _ in range(reps):
        t = time.perf_counter()
        pooled, _ = backtest(frame)
        times.append((time.perf_counter() - t) * 1000.0)
    median = statistics.median(times)
    runs = ", ".join(f"{t:.1f}" for t in times)
    print(f"pandas/numpy 1 thread:  median {median:9.1f} ms  (runs: {runs})")
    print("PY_MEDIAN_MS", median)
    print("PY_POOLED_MAE", " ".join(f"{v:.9f}" for v in pooled))


if __name__ == "__main__":
    main()
