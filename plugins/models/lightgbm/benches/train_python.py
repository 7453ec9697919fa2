"""LightGBM's own Python package on the matrix exported by benches/train.rs.

Usage: python3 train_python.py MATRIX_FILE REPS SEED
Prints one training time in seconds per repetition (LGBMRegressor.fit with
the platform's parameters, Dataset construction included, as on the Rust
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
    times = []
    for _ in range(reps):
        model = lightgbm.LGBMRegressor(
            n_estimators=100,
            learning_rate=0.1,
            max_depth=6,
            random_state=seed,
            n_jobs=1,
            deterministic=True,
            force_col_wise=True,
            verbosity=-1,
        )
        started = time.perf_counter()
        model.fit(x, y)
        times.append(time.perf_counter() - started)
    print(" ".join(f"{t:.6f}" for t in times))


if __name__ == "__main__":
    main()
