//! Train + predict (horizon 28) of every target-only baseline over many
//! series (default 10,000 × 730 days), in parallel across series with rayon,
//! through the same plugin registry path the server uses (build → fit →
//! predict). Prints a table of median wall times and writes the series and
//! the timings for the Python peers (`baselines.py`).
//!
//! `BENCH_SERIES`, `BENCH_DAYS`, `BENCH_REPS` override the sizes;
//! `BENCH_OUT` is the directory for the data and results
//! (default `target/bench-data`). Run everything side by side with
//! `bash core/benches/baselines.sh`.

use std::{io::Write, time::Instant};

use forecastlab_core::{PredictRequest, TrainingData};
use rayon::prelude::*;

// Link the plugins so their registrations are present.
use forecastlab_model_moving_average as _;
use forecastlab_model_naive as _;
use forecastlab_model_seasonal_average as _;
use forecastlab_model_seasonal_naive as _;
use forecastlab_model_trend_regression as _;
use forecastlab_model_weighted_moving_average as _;

const HORIZON: usize = 28;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Retail-like daily series: level × weekday profile × noise, with some
/// intermittent zeros; deterministic.
fn generate(n_series: usize, days: usize) -> Vec<f64> {
    let profile = [0.8, 0.85, 0.9, 1.0, 1.2, 1.5, 1.3];
    let mut out = vec![0.0; n_series * days];
    out.par_chunks_mut(days)
        .enumerate()
        .for_each(|(i, series)| {
            let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let level = 2.0 + (i % 97) as f64;
            for (t, value) in series.iter_mut().enumerate() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                let trend = 1.0 + 0.0003 * t as f64;
                let mean = level * profile[t % 7] * trend;
                *value = if u < 0.05 {
                    0.0
                } else {
                    (mean * (0.7 + 0.6 * u)).round()
                };
            }
        });
    out
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let n_series = env("BENCH_SERIES", 10_000);
    let days = env("BENCH_DAYS", 730);
    let reps = env("BENCH_REPS", 5).max(1);
    let out_dir = std::env::var("BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-data").to_owned()
    });
    std::fs::create_dir_all(&out_dir).expect("create the output directory");
    let data = generate(n_series, days);
    let mut bytes = Vec::with_capacity(data.len() * 8);
    for v in &data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(format!("{out_dir}/series.f64"), &bytes).expect("write the series");

    let cases = [
        ("naive", serde_json::json!({"model_type": "naive"})),
        (
            "seasonal_naive",
            serde_json::json!({"model_type": "seasonal_naive", "season_length": 7}),
        ),
        (
            "moving_average",
            serde_json::json!({"model_type": "moving_average", "window_size": 7}),
        ),
        (
            "weighted_moving_average",
            serde_json::json!({"model_type": "weighted_moving_average", "window_size": 7}),
        ),
        (
            "seasonal_average",
            serde_json::json!({"model_type": "seasonal_average", "season_length": 7, "lookback_cycles": 4}),
        ),
        (
            "trend_regression_baseline",
            serde_json::json!({"model_type": "trend_regression_baseline"}),
        ),
    ];
    println!(
        "{n_series} series x {days} days, horizon {HORIZON}, {} threads, median of {reps}",
        rayon::current_num_threads()
    );
    println!("{:<28} {:>12} {:>16}", "model", "median ms", "series / s");
    let mut results = serde_json::Map::new();
    for (name, config) in cases {
        let registration = forecastlab_core::model(name).expect("plugin linked");
        let model = (registration.build)(&config).expect("valid config");
        let mut times = Vec::with_capacity(reps);
        let mut checksum = 0.0;
        for _ in 0..reps {
            let started = Instant::now();
            checksum = data
                .par_chunks(days)
                .map(|y| {
                    let fitted = model.fit(&TrainingData::target_only(y, 42)).expect("fit");
                    let forecast = fitted
                        .predict(&PredictRequest::horizon(HORIZON))
                        .expect("predict");
                    forecast.point[HORIZON - 1]
                })
                .sum::<f64>();
            times.push(started.elapsed().as_secs_f64());
        }
        let med = median(&mut times);
        println!(
            "{name:<28} {:>12.1} {:>16.0}   (checksum {checksum:.3})",
            med * 1e3,
            n_series as f64 / med
        );
        results.insert(
            name.to_owned(),
            serde_json::json!({"median_s": med, "times_s": times}),
        );
    }
    let summary = serde_json::json!({
        "n_series": n_series, "days": days, "horizon": HORIZON, "reps": reps,
        "threads": rayon::current_num_threads(), "results": results,
    });
    let mut file = std::fs::File::create(format!("{out_dir}/rust.json")).expect("results file");
    writeln!(file, "{summary}").expect("write results");
}
