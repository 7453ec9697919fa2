//! Backtest throughput: 1,000 series × 5 folds × horizon 28 with the six
//! target-only models (naive, seasonal_naive, moving_average,
//! weighted_moving_average, seasonal_average, trend_regression_baseline),
//! through the same core path the endpoint uses (splitter → per-fold
//! fit/forecast → metrics, horizon buckets, aggregation, pooling), on a
//! rayon pool of 1 and of 2 threads; then the pandas/numpy peer
//! (`backtest_pandas.py`, same data and the same loop) for comparison.
//!
//! `cargo bench -p forecastlab-server --bench backtest`
//! (`BENCH_SERIES`, `BENCH_ROWS`, `BENCH_REPS`, `BENCH_PY_REPS` adjust the
//! size; `BENCH_SKIP_PYTHON=1` skips the peer.)

use std::{process::Command, time::Instant};

use chrono::{Days, NaiveDate};
use forecastlab_core::{
    backtest::{self, Fold, ModelOutcome, SplitSpec, SplitStrategy},
    metrics::MetricSums,
    Forecaster,
};
use rayon::prelude::*;
use serde_json::json;

// Links the server library, and with it every model plugin.
use forecastlab_server as _;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-noise in [0, 1), identical in the Python peer.
fn noise(i: usize, s: usize) -> f64 {
    let x = ((i as f64) * 12.9898 + (s as f64) * 78.233).sin() * 43_758.545_3;
    x - x.floor()
}

/// Series `s`: level + weekly pattern + slow trend + noise, rounded to
/// whole units like `sales_daily.quantity`.
fn series_values(s: usize, n: usize) -> Vec<f64> {
    const WEEK: [f64; 7] = [0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.3];
    let level = 5.0 + (s % 17) as f64;
    (0..n)
        .map(|i| {
            let v = level * WEEK[i % 7] + 0.01 * i as f64 + 4.0 * (noise(i, s) - 0.5);
            v.max(0.0).round()
        })
        .collect()
}

fn models() -> Vec<Box<dyn Forecaster>> {
    let configs = [
        json!({"model_type": "naive"}),
        json!({"model_type": "seasonal_naive", "season_length": 7}),
        json!({"model_type": "moving_average", "window_size": 7}),
        json!({"model_type": "weighted_moving_average", "window_size": 7, "weight_strategy": "linear"}),
        json!({"model_type": "seasonal_average", "season_length": 7, "lookback_cycles": 4}),
        json!({"model_type": "trend_regression_baseline", "alpha": 1.0}),
    ];
    configs
        .iter()
        .map(|config| {
            let name = config["model_type"].as_str().unwrap_or_default();
            let registration = forecastlab_core::model(name)
                .unwrap_or_else(|| panic!("model {name} is not linked in"));
            (registration.build)(config).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
        .collect()
}

/// The whole backtest of every series; returns pooled MAE per model (to
/// check both implementations agree) and the number of folds.
fn run(
    dates: &[NaiveDate],
    series: &[Vec<f64>],
    spec: &SplitSpec,
    models: &[Box<dyn Forecaster>],
) -> (Vec<f64>, usize) {
    let per_series: Vec<(Vec<ModelOutcome>, usize)> = series
        .par_iter()
        .map(|y| {
            let folds = backtest::split(y.len(), spec).expect("enough rows");
            let predictors: Vec<Box<backtest::Predictor<'_>>> = models
                .iter()
                .map(|m| -> Box<backtest::Predictor<'_>> {
                    Box::new(move |fold: &Fold| {
                        backtest::target_only_forecast(m.as_ref(), y, fold, 42)
                    })
                })
                .collect();
            let refs: Vec<&backtest::Predictor<'_>> =
                predictors.iter().map(|p| p.as_ref()).collect();
            let outcomes = backtest::evaluate_models(&dates[..y.len()], y, &folds, &refs)
                .into_iter()
                .map(|r| r.expect("model runs"))
                .collect();
            (outcomes, folds.len())
        })
        .collect();
    let mut pooled = vec![MetricSums::default(); models.len()];
    let mut folds = 0;
    for (outcomes, n_folds) in &per_series {
        folds += n_folds;
        for (slot, outcome) in pooled.iter_mut().zip(outcomes) {
            slot.merge(&outcome.pooled);
        }
    }
    (pooled.iter().map(|s| s.metrics().mae).collect(), folds)
}

/// CPU time (user + system, all threads) of this process in ms, from
/// `/proc/self/stat` (Linux; `None` elsewhere). Clock ticks are 10 ms.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() {
    let n_series = env_usize("BENCH_SERIES", 1000);
    let n_rows = env_usize("BENCH_ROWS", 365);
    let reps = env_usize("BENCH_REPS", 7);
    let py_reps = env_usize("BENCH_PY_REPS", 3);
    let spec = SplitSpec {
        strategy: SplitStrategy::Expanding,
        n_splits: 5,
        min_train_size: 30,
        gap: 0,
        horizon: 28,
    };
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let dates: Vec<NaiveDate> = (0..n_rows as u64).map(|i| start + Days::new(i)).collect();
    let series: Vec<Vec<f64>> = (0..n_series).map(|s| series_values(s, n_rows)).collect();
    let models = models();

    println!(
        "backtest: {n_series} series x {n_rows} rows, expanding, 5 folds, horizon 28, {} models",
        models.len()
    );
    // Both pools measured in alternation, so a busy machine slows both alike.
    let pools: Vec<(usize, rayon::ThreadPool)> = [1usize, 2]
        .into_iter()
        .map(|threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            (threads, pool)
        })
        .collect();
    let mut rust_mae = Vec::new();
    for (_, pool) in &pools {
        // Warm-up.
        let (mae, folds) = pool.install(|| run(&dates, &series, &spec, &models));
        assert_eq!(folds, n_series * 5);
        rust_mae = mae;
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); pools.len()];
    let mut cpu: Vec<f64> = vec![0.0; pools.len()];
    for _ in 0..reps {
        for ((slot, cpu), (_, pool)) in times.iter_mut().zip(cpu.iter_mut()).zip(&pools) {
            let before = cpu_ms();
            let t = Instant::now();
            let out = pool.install(|| run(&dates, &series, &spec, &models));
            std::hint::black_box(out);
            slot.push(t.elapsed().as_secs_f64() * 1000.0);
            if let (Some(a), Some(b)) = (before, cpu_ms()) {
                *cpu += b - a;
            }
        }
    }
    let mut medians = Vec::new();
    for ((threads, _), runs) in pools.iter().zip(&times) {
        let m = median(runs.clone());
        println!(
            "rust  rayon {threads} thread(s): median {m:9.1} ms  (runs: {})",
            runs.iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        medians.push(m);
    }
    println!(
        "CPU time per run (all threads, mean): 1 thread {:.1} ms, 2 threads {:.1} ms \
         (equal CPU time = no parallel overhead; wall-time speed-up then needs two idle cores)",
        cpu[0] / reps as f64,
        cpu[1] / reps as f64
    );
    println!(
        "speed-up 1 -> 2 threads: {:.2}x (ideal 2.00x)",
        medians[0] / medians[1]
    );
    println!(
        "pooled MAE per model (rust): {}",
        rust_mae
            .iter()
            .map(|m| format!("{m:.6}"))
            .collect::<Vec<_>>()
            .join(" ")
    );

    if std::env::var("BENCH_SKIP_PYTHON").is_ok() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/backtest_pandas.py");
    let output = Command::new("python3")
        .arg(script)
        .env("BENCH_SERIES", n_series.to_string())
        .env("BENCH_ROWS", n_rows.to_string())
        .env("BENCH_PY_REPS", py_reps.to_string())
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            println!(
                "pandas peer failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        Err(error) => {
            println!("pandas peer not run ({error}); `pip install pandas numpy`");
            return;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    let py_median = text
        .lines()
        .find_map(|l| l.strip_prefix("PY_MEDIAN_MS "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    let py_mae: Option<Vec<f64>> = text
        .lines()
        .find_map(|l| l.strip_prefix("PY_POOLED_MAE "))
        .map(|v| {
            v.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        });
    if let Some(py) = py_median {
        println!(
            "pandas/numpy (1 thread) vs rust: {:.1}x slower than rust 1 thread, {:.1}x slower than rust 2 threads",
            py / medians[0],
            py / medians[1]
        );
    }
    if let Some(py_mae) = py_mae {
        let agree = py_mae.len() == rust_mae.len()
            && py_mae
                .iter()
                .zip(&rust_mae)
                .all(|(a, b)| (a - b).abs() <= 1e-6 * b.abs().max(1.0));
        println!("pooled MAE agrees with the peer: {agree}");
    }
}
