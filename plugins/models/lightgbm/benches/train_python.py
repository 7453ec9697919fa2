"""LightGBM's own Python package on the matrix exported by benches/train.rs.

Usage: python3 train_python.py MATRIX_FILE REPS SEED
Prints one training time in seconds per repetition (Dataset construction
plus 100 boosting rounds with the platform's parameters, as on the Rust
side).
"""

import sys
import time

import lightgbm
import numpy as np


def main() -> None:
    path, reps, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path, "rb") as handle:
        rows, cols = np.frombuffer(handle.read(16), dtype="<u8")
        data = np.frombuffer(handle.read(), dtype="<f8")
    x = data[: rows * cols].reshape(rows, cols)
    y = data[rows * cols :].astype(np.float32)
    # What lightgbm.LGBMRegressor(n_estimators=100, learning_rate=0.1,
    # max_depth=6, random_state=seed, n_jobs=1, deterministic=True,
    # force_col_wise=True, verbosity=-1).fit(x, y) runs, through the
    # package's native API (the sklearn wrapper needs scikit-learn).
    params = {
        "objective": "regression",
        "learning_rate": 0.1,
        "max_depth": 6,
        "seed": seed,
        "num_threads": 1,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
    }
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        dataset = lightgbm.Dataset(x, label=y, params=params)
        lightgbm.train(params, dataset, num_boost_round=100)
        times.append(time.perf_counter() - started)
    print(" ".join(f"{t:.6f}" for t in times))


if __name__ == "__main__":
    main()
