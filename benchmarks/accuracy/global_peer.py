"""An independent global LightGBM on a seeded preset: the yardstick for the
accuracy test's global model (tests/tests/accuracy.rs).

It reads a database that `forecastlab seed` filled, fits one LightGBM across
every series per fold (5 expanding folds, horizon 28, the accuracy test's
split), with the V1 frame's columns (lags 1/7/14/28 filled recursively with
its own predictions, weekday and month encodings, weekend, month end,
holiday, price factor, promotion) plus store, product and category codes,
the series' log scale and its expanding mean, on the target divided by the
series' mean (local scaling), and prints the pooled WAPE beside seasonal
naive's. The price factor of a forecast day is its sold unit price (on
seeded data, that day's shelf or promotion price). `--no-lags` drops the
lags (no recursion) and `--log-target` fits `log1p` of the scaled target.
It also prints how much of the error falls on the holidays of the test
windows beyond the error rate of ordinary days: no model fitted on one year
of history can know their effect (each is in a test window before it is in
any training window; Christmas Day sells at 0.3 of an ordinary day).

    pip install lightgbm pandas
    forecastlab seed --preset high_variance --seed 1 --stores 5 --products 20 \\
        --days 366 --end-date 2024-12-31          # with DATABASE_URL=sqlite://hv.db
    python3 benchmarks/accuracy/global_peer.py hv.db
"""

import argparse
import sqlite3

import lightgbm as lgb
import numpy as np
import pandas as pd

LAGS = (1, 7, 14, 28)
HORIZON = 28
FOLDS = 5
MIN_TRAIN = 180


def fold_origins(n):
    """First test day of each fold, as the backtest's expanding splitter
    places them (core/src/backtest/splitter.rs): training grows from
    MIN_TRAIN days by an equal step, and the last test window ends within a
    step of the last day."""
    step = max(1, (n - MIN_TRAIN - HORIZON) // (FOLDS - 1))
    return [MIN_TRAIN + f * step for f in range(FOLDS)]


def load(path):
    """One row per series and day: target, calendar, price factor, promotion."""
    con = sqlite3.connect(path)
    sales = pd.read_sql(
        "SELECT date, store_id, product_id, SUM(quantity) AS y, AVG(unit_price) AS unit_price "
        "FROM sales_daily GROUP BY 1, 2, 3",
        con,
    )
    products = pd.read_sql("SELECT id AS product_id, category, base_price FROM product", con)
    calendar = pd.read_sql("SELECT date, is_holiday FROM calendar", con)
    promotions = pd.read_sql("SELECT product_id, store_id, start_date, end_date FROM promotion", con)
    df = sales.merge(products, on="product_id").merge(calendar, on="date", how="left")
    df["date"] = pd.to_datetime(df.date)
    df["promo"] = 0.0
    for p in promotions.itertuples():
        hit = (df.product_id == p.product_id) & (df.date >= p.start_date) & (df.date <= p.end_date)
        if pd.notna(p.store_id):
            hit &= df.store_id == p.store_id
        df.loc[hit, "promo"] = 1.0
    df["price_factor"] = df.unit_price.astype(float) / df.base_price.astype(float)
    df["store"] = df.store_id.rank(method="dense").astype(int) - 1
    df["product"] = df.product_id.rank(method="dense").astype(int) - 1
    df["category_code"] = df.category.astype("category").cat.codes
    df["sid"] = df.store * (df["product"].max() + 1) + df["product"]
    df["y"] = df.y.astype(float)
    dates = np.sort(df.date.unique())
    if len(df) != df.sid.nunique() * len(dates):
        raise SystemExit("expects one sales row per series and day, as `forecastlab seed` writes")
    df["t"] = df.date.map({d: i for i, d in enumerate(dates)})
    return df, len(dates)


def features(rows, lags):
    """The model's columns for `rows` (lags already scaled)."""
    dow = rows.date.dt.dayofweek.values
    month = rows.date.dt.month.values
    x = pd.DataFrame(
        {
            "dow_sin": np.sin(2 * np.pi * dow / 7),
            "dow_cos": np.cos(2 * np.pi * dow / 7),
            "month_sin": np.sin(2 * np.pi * month / 12),
            "month_cos": np.cos(2 * np.pi * month / 12),
            "is_weekend": (dow >= 5).astype(float),
            "is_month_end": rows.date.dt.is_month_end.astype(float).values,
            "is_holiday": rows.is_holiday.astype(float).values,
            "price_factor": rows.price_factor.values,
            "promo_active": rows.promo.values,
            "store_code": rows.store.values,
            "product_code": rows["product"].values,
            "category_code": rows.category_code.values,
            "log_scale": np.log(rows.scale.values),
            "te_series": rows.te_series.values,
        }
    )
    for k in lags:
        x[f"lag_{k}"] = rows[f"lag_{k}"].values
    return x


def fold_forecast(df, wide, cutoff, lags, log_target, objective):
    """Fits on days before `cutoff` and forecasts the next HORIZON days."""
    n = wide.shape[1]
    scale = df[df.t < cutoff].groupby("sid").y.mean().clip(lower=1e-9)
    d = df.assign(scale=df.sid.map(scale))
    # Mean of the series' days strictly before the row, frozen at the origin.
    known = np.where(np.arange(n)[None, :] < cutoff, wide, 0.0)
    before = np.concatenate([np.zeros((wide.shape[0], 1)), np.cumsum(known, axis=1)[:, :-1]], axis=1)
    count = np.maximum(np.minimum(np.arange(n), cutoff), 1)
    d["te_series"] = np.log1p(before[d.sid.values, d.t.values] / count[d.t.values])
    for k in lags:
        lagged = np.full_like(wide, np.nan)
        lagged[:, k:] = wide[:, :-k]
        d[f"lag_{k}"] = lagged[d.sid.values, d.t.values] / d.scale.values
    to_model = np.log1p if log_target else (lambda v: v)
    from_model = np.expm1 if log_target else (lambda v: v)
    train = d[(d.t < cutoff) & (d.t >= max(LAGS))]
    params = dict(objective=objective, learning_rate=0.1, max_depth=6, seed=1, num_threads=1, verbose=-1)
    booster = lgb.train(params, lgb.Dataset(features(train, lags), to_model(train.y / train.scale)), 100)
    test = d[(d.t >= cutoff) & (d.t < cutoff + HORIZON)].sort_values(["t", "sid"])
    if not lags:
        return test, from_model(booster.predict(features(test, lags))) * test.scale.values
    history = wide.astype(float).copy()
    history[:, cutoff:] = np.nan
    out = []
    for t in range(cutoff, cutoff + HORIZON):
        rows = test[test.t == t].copy()
        for k in lags:
            rows[f"lag_{k}"] = history[rows.sid.values, t - k] / rows.scale.values
        point = from_model(booster.predict(features(rows, lags))) * rows.scale.values
        history[rows.sid.values, t] = point
        out.append(point)
    return test, np.concatenate(out)


def main(args):
    df, n = load(args.db)
    wide = df.pivot(index="sid", columns="t", values="y").fillna(0.0).values
    lags = () if args.no_lags else LAGS
    cutoffs = fold_origins(n)
    error = total = holiday_error = holiday_total = naive_error = 0.0
    for cutoff in cutoffs:
        test, point = fold_forecast(df, wide, cutoff, lags, args.log_target, args.objective)
        miss = np.abs(test.y.values - point)
        error += miss.sum()
        holiday = test.is_holiday.values.astype(bool)
        holiday_error += miss[holiday].sum()
        holiday_total += test.y.values[holiday].sum()
        total += test.y.sum()
        for t in range(cutoff, cutoff + HORIZON):
            naive_error += np.abs(wide[:, t] - wide[:, cutoff - 7 + (t - cutoff) % 7]).sum()
    print(f"global LightGBM ({args.objective}) WAPE {100 * error / total:.2f} %")
    ordinary_rate = (error - holiday_error) / (total - holiday_total)
    excess = holiday_error - ordinary_rate * holiday_total
    print(
        f"  holidays: {100 * holiday_error / total:.2f} points of it, "
        f"{100 * excess / total:.2f} above the error rate of ordinary days"
    )
    print(f"seasonal naive WAPE {100 * naive_error / total:.2f} %")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", help="SQLite file filled by `forecastlab seed`")
    parser.add_argument("--objective", default="regression_l1", help="LightGBM objective")
    parser.add_argument("--no-lags", action="store_true", help="no lag columns (no recursion)")
    parser.add_argument("--log-target", action="store_true", help="fit log1p of the scaled target")
    main(parser.parse_args())
