"""Noise floor of the seeder's presets: the pooled WAPE of a forecast that
knows every day's expected demand and misses only what the seeder draws on
top of it (multiplicative noise, anomalies, stochastic rounding, stockout
caps), scaled by the best constant factor. No model can beat it on the same
data, but the floor is loose: it leaves out the levels' estimation and
the holidays. `structural_oracle.py` measures a tighter one on the seeded
data themselves.

The draws follow server/src/seeder/engine/series.rs: demand = expected *
max(0, 1 + sigma * N(0, 1)), anomalies multiply or divide by the magnitude,
units are rounded stochastically, and a stockout day caps the units at
floor(U(0, 0.6) * expected). Levels are the seeder's (base x store, product
and series log-normal factors) with a weekly profile and a yearly wave; the
floor barely depends on them beyond the share of slow movers.

    python3 benchmarks/accuracy/noise_floor.py
"""

import numpy as np

PRESETS = {
    # name: (noise sigma, anomaly probability, anomaly magnitude,
    #        stockout probability, base demand)
    "retail_standard": (0.15, 0.0, 3.0, 0.02, 100.0),
    "high_variance": (0.40, 0.05, 3.0, 0.05, 100.0),
    "stockout_heavy": (0.20, 0.0, 3.0, 0.25, 50.0),
}
WEEKLY = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2])


def mean_one_lognormal(rng, sigma, size):
    return np.exp(rng.standard_normal(size) * sigma - sigma * sigma / 2.0)


def floor_wape(rng, sigma, anomaly_p, magnitude, stockout_p, base, series=100, days=140):
    level = (
        base
        * mean_one_lognormal(rng, 0.25, series)
        * mean_one_lognormal(rng, 0.5, series)
        * mean_one_lognormal(rng, 0.2, series)
    )
    day = np.arange(days)
    expected = level[:, None] * (WEEKLY[day % 7] * (1 + 0.2 * np.sin(day / 58.0)))[None, :]
    demand = expected * np.maximum(0.0, 1.0 + sigma * rng.standard_normal(expected.shape))
    anomaly = rng.random(expected.shape) < anomaly_p
    up = rng.random(expected.shape) < 0.5
    demand = np.where(anomaly & up, demand * magnitude, np.where(anomaly & ~up, demand / magnitude, demand))
    units = np.floor(demand) + (rng.random(demand.shape) < demand - np.floor(demand))
    stockout = rng.random(expected.shape) < stockout_p
    available = np.floor(rng.uniform(0.0, 0.6, expected.shape) * expected)
    units = np.where(stockout, np.minimum(units, available), units)
    return min(
        (np.abs(units - factor * expected).sum() / units.sum(), factor)
        for factor in np.linspace(0.5, 1.2, 141)
    )


def main():
    rng = np.random.default_rng(1)
    for name, params in PRESETS.items():
        wape, factor = floor_wape(rng, *params)
        print(f"{name:<16} floor WAPE {100 * wape:5.2f} %  (best factor {factor:.3f})")


if __name__ == "__main__":
    main()
