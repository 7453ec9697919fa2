"""Structural oracle on a seeded database: the pooled WAPE of a forecast
that knows how the seeder builds expected demand and only has to estimate
each series' level (and, on a trending preset, its slope) from the days
before each fold's origin. Same folds as the accuracy test and
`global_peer.py` (the backtest splitter's 5 expanding folds, horizon 28).

Where `noise_floor.py` simulates the presets' noise on made-up levels, this
reads the very data a model is measured on: the weekly profile, the
holidays' multipliers (by the calendar's holiday names), each category's
yearly wave, the promotion lift and the price elasticity of
server/src/seeder (config.rs, engine/factors.rs, engine/series.rs) are
applied to the calendar, promotions and sold prices of the database. What
it leaves to estimation is what no model can be told: the series' level
(a robust mean of sales over the expected shape before the origin) and,
for `retail_standard`'s linear trend, the slope. A best constant factor is
applied, as in `noise_floor.py`. A model fitted on the same history has to
learn every one of those effects from the data, so it lands above it. The
factors are the seeder's defaults, which `retail_standard`, `high_variance`
and `stockout_heavy` keep; the other presets change them.

    pip install pandas
    forecastlab seed --preset high_variance --seed 1 --stores 5 --products 20 \\
        --days 366 --end-date 2024-12-31          # with DATABASE_URL=sqlite://hv.db
    python3 benchmarks/accuracy/structural_oracle.py hv.db --preset high_variance
    python3 benchmarks/accuracy/structural_oracle.py hv.db --preset high_variance --check
"""

import argparse
import sqlite3

import numpy as np
import pandas as pd

from global_peer import HORIZON, fold_origins, load

WEEKLY = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2])
# The federal holidays' demand multipliers (config.rs, `federal_holidays`).
HOLIDAYS = {
    "New Year's Day": 0.6,
    "Martin Luther King Jr. Day": 1.05,
    "Presidents Day": 1.1,
    "Memorial Day": 1.15,
    "Juneteenth": 1.05,
    "Independence Day": 1.2,
    "Labor Day": 1.15,
    "Columbus Day": 1.05,
    "Veterans Day": 1.05,
    "Thanksgiving": 0.7,
    "Christmas Day": 0.3,
}
# Yearly phase offsets by category (engine/factors.rs, `category_phase`).
PHASE = {"Beverage": -100.0, "Frozen": -100.0, "Produce": -70.0, "Bakery": 170.0}
YEARLY_AMPLITUDE = 0.1
PROMOTION_LIFT = 1.3
PRICE_ELASTICITY = -0.5
# Presets whose series carry a linear trend (config.rs, `Preset::config`).
TRENDING = {"retail_standard"}


def holiday_names(df, path):
    """The calendar's holiday name of every row (None on ordinary days)."""
    names = pd.read_sql("SELECT date, holiday_name FROM calendar", sqlite3.connect(path))
    names["date"] = pd.to_datetime(names.date)
    return df[["date"]].merge(names, on="date", how="left").holiday_name.values


def expected_shape(df, holiday, known_holidays):
    """Expected demand of every row up to the series' level (and trend);
    only the holidays in `known_holidays` get their multiplier."""
    day_of_year = df.date.dt.day_of_year.values
    phase = df.category.map(lambda c: PHASE.get(c, 0.0)).values
    yearly = 1.0 + YEARLY_AMPLITUDE * np.sin(2.0 * np.pi * (day_of_year + phase) / 365.0)
    promotion = np.where(df.promo.values > 0, PROMOTION_LIFT, 1.0)
    price = np.maximum(1.0 + PRICE_ELASTICITY * (df.price_factor.values - 1.0), 0.0)
    multiplier = np.array(
        [HOLIDAYS.get(name, 1.0) if name in known_holidays else 1.0 for name in holiday]
    )
    return WEEKLY[df.date.dt.day_of_week.values] * multiplier * yearly * promotion * price


def level_forecast(df, shape, cutoff, trending):
    """Level (times the fitted trend) of each row, from days before `cutoff`."""
    ratio = df.y.values / np.maximum(shape, 1e-9)
    before = df.t.values < cutoff
    out = np.empty(len(df))
    for sid in np.unique(df.sid.values):
        mine = df.sid.values == sid
        known = mine & before
        t = df.t.values[known].astype(float)
        if trending:
            slope, intercept = np.polyfit(t, ratio[known], 1)
            out[mine] = intercept + slope * df.t.values[mine]
        else:
            out[mine] = np.median(ratio[known])
    return out


def oracle_wape(df, holiday, trending, only_seen_holidays):
    """Pooled WAPE over the folds and the best constant factor."""
    forecasts, actuals = [], []
    for cutoff in fold_origins(df.t.max() + 1):
        seen = holiday[df.t.values < cutoff] if only_seen_holidays else holiday
        shape = expected_shape(df, holiday, set(seen) & set(HOLIDAYS))
        window = (df.t.values >= cutoff) & (df.t.values < cutoff + HORIZON)
        level = level_forecast(df, shape, cutoff, trending)
        forecasts.append((level * shape)[window])
        actuals.append(df.y.values[window])
    forecast, actual = np.concatenate(forecasts), np.concatenate(actuals)
    return min(
        (np.abs(actual - k * forecast).sum() / actual.sum(), k) for k in np.linspace(0.8, 1.2, 81)
    )


def print_residual_check(df, holiday):
    """Mean of sales over level × shape (every holiday known, level from all
    days) by weekday, promotion and month: flat at 1 when the shape is the
    seeder's (on a trending preset the months show the trend, which this
    constant level leaves out)."""
    shape = expected_shape(df, holiday, set(HOLIDAYS))
    ratio = pd.Series(df.y.values / np.maximum(shape, 1e-9))
    level = ratio.groupby(df.sid.values).transform("mean").values
    relative = pd.Series(df.y.values / np.maximum(level * shape, 1e-9))
    for name, key in (
        ("weekday", df.date.dt.day_of_week.values),
        ("promotion", df.promo.values),
        ("month", df.date.dt.month.values),
    ):
        means = relative.groupby(key).mean().round(3).tolist()
        print(f"  sales / (level x shape) by {name}: {means}")


def main(args):
    df, _ = load(args.db)
    holiday = holiday_names(df, args.db)
    trending = args.preset in TRENDING
    if args.check:
        print_residual_check(df, holiday)
    variants = (("every holiday's multiplier", False), ("holidays seen before the origin", True))
    for label, only_seen in variants:
        wape, factor = oracle_wape(df, holiday, trending, only_seen)
        print(
            f"{args.preset}: structural oracle knowing {label}: "
            f"WAPE {100 * wape:.2f} % (factor {factor:.3f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", help="SQLite file filled by `forecastlab seed`")
    parser.add_argument("--preset", required=True, help="the preset the database was seeded with")
    parser.add_argument(
        "--check", action="store_true", help="also print the residual ratio by weekday, promotion, month"
    )
    main(parser.parse_args())
