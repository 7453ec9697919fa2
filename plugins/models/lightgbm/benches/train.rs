//! LightGBM training through the platform versus LightGBM's own Python
//! package, on the same matrix with the same parameters.
//!
//! ```sh
//! cargo bench -p forecastlab-model-lightgbm --features enabled --bench train
//! ```
//!
//! Builds the V1 feature frame of `BENCH_SERIES` (1 000) seeded retail
//! series of `BENCH_DAYS` (365) days with the platform's frame code, stacks
//! them into one matrix, writes it to a temporary file and then, for
//! `BENCH_REPS` (3) repetitions each, times:
//!
//! * `platform fit`: the registered `lightgbm` model's `fit` (booster plus
//!   interval calibration), as `/forecasting/train` runs it;
//! * `booster only`: the same booster training without calibration;
//! * `python`: `benches/train_python.py` (`lightgbm.train`, the same
//!   parameters) on the exported matrix, if `python3 -c "import lightgbm"`
//!   works.
//!
//! Prints medians and the ratios to Python.

use std::{io::Write, process::Command, time::Instant};

use chrono::{Datelike, Days, NaiveDate};
use forecastlab_core::{
    frame::{build_training_frames, FrameSpec, SeriesData},
    testing::Rng,
    FeatureMatrix, SeriesKey, TrainingData,
};
use forecastlab_model_lightgbm::{train_booster, LightGbmConfig};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One seeded retail series: level, weekly pattern, trend, price cuts.
fn series(index: usize, days: usize, rng: &mut Rng) -> SeriesData {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let level = 5.0 + rng.uniform() * 40.0;
    let weekly: Vec<f64> = (0..7).map(|_| 0.7 + rng.uniform() * 0.6).collect();
    let mut dates = Vec::with_capacity(days);
    let mut target = Vec::with_capacity(days);
    let mut price = Vec::with_capacity(days);
    for d in 0..days {
        let date = start + Days::new(d as u64);
        let cut = rng.uniform() < 0.15;
        let dow = weekly[date.weekday().num_days_from_monday() as usize];
        let demand = level * dow * (1.0 + d as f64 / 2000.0) * if cut { 1.6 } else { 1.0 };
        target.push(
            (demand + (rng.uniform() - 0.5) * level * 0.3)
                .max(0.0)
                .round(),
        );
        price.push(if cut { 7.0 } else { 10.0 });
        dates.push(date);
    }
    SeriesData {
        key: SeriesKey {
            store_id: 1 + (index / 100) as i64,
            product_id: 1 + (index % 100) as i64,
        },
        dates,
        target,
        price,
        ..SeriesData::default()
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let n_series = env_usize("BENCH_SERIES", 1000);
    let days = env_usize("BENCH_DAYS", 365);
    let reps = env_usize("BENCH_REPS", 3).max(1);
    let seed = 42;

    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let all: Vec<SeriesData> = (0..n_series).map(|i| series(i, days, &mut rng)).collect();
    let frames = build_training_frames(&FrameSpec::v1(), &all);
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut y = Vec::new();
    for frame in frames {
        let frame = frame.expect("frame");
        columns = frame.x.columns().to_vec();
        values.extend_from_slice(frame.x.values());
        y.extend_from_slice(&frame.y);
    }
    let x = FeatureMatrix::from_row_major(columns.clone(), values).expect("matrix");
    println!(
        "LightGBM training: {n_series} series x {days} days = {} rows x {} columns (V1 frame), {reps} reps",
        x.n_rows(),
        x.n_cols()
    );

    // Export for the Python side: rows, cols (u64 LE), then X and y (f64 LE).
    let dir = tempfile_dir();
    let path = dir.join("matrix.bin");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        file.write_all(&(x.n_rows() as u64).to_le_bytes())
            .expect("write");
        file.write_all(&(x.n_cols() as u64).to_le_bytes())
            .expect("write");
        for v in x.values().iter().chain(&y) {
            file.write_all(&v.to_le_bytes()).expect("write");
        }
    }

    let registration = forecastlab_core::model("lightgbm").expect("lightgbm registered");
    let config = serde_json::json!({"n_estimators": 100, "max_depth": 6, "learning_rate": 0.1});
    let model = (registration.build)(&config).expect("config");
    let mut platform = Vec::new();
    for _ in 0..reps {
        let started = Instant::now();
        let fitted = model
            .fit(&TrainingData {
                target: &y,
                features: Some(&x),
                seed,
            })
            .expect("fit");
        platform.push(started.elapsed().as_secs_f64());
        drop(fitted);
    }
    let lightgbm_config = LightGbmConfig::from_json(&config).expect("config");
    let mut booster_only = Vec::new();
    for _ in 0..reps {
        let started = Instant::now();
        let model_text = train_booster(&x, &y, &lightgbm_config, seed).expect("train");
        booster_only.push(started.elapsed().as_secs_f64());
        drop(model_text);
    }

    let python = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/train_python.py"
        ))
        .arg(&path)
        .arg(reps.to_string())
        .arg(seed.to_string())
        .output();
    let python_times: Option<Vec<f64>> = match python {
        Ok(output) if output.status.success() => Some(
            String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect(),
        ),
        Ok(output) => {
            eprintln!(
                "python side failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            None
        }
        Err(error) => {
            eprintln!("python side not run: {error}");
            None
        }
    };
    let _ = std::fs::remove_dir_all(&dir);

    let platform_median = median(platform.clone());
    let booster_median = median(booster_only.clone());
    println!("{:<40} {:>10}  runs", "what", "median s");
    println!(
        "{:<40} {:>10.3}  {:?}",
        "platform fit (booster + calibration)", platform_median, platform
    );
    println!(
        "{:<40} {:>10.3}  {:?}",
        "booster only (lightgbm3)", booster_median, booster_only
    );
    if let Some(times) = python_times.filter(|t| !t.is_empty()) {
        let python_median = median(times.clone());
        println!(
            "{:<40} {:>10.3}  {:?}",
            "python lightgbm.train", python_median, times
        );
        println!(
            "ratio platform fit / python: {:.2}",
            platform_median / python_median
        );
        println!(
            "ratio booster only / python: {:.2}",
            booster_median / python_median
        );
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("forecastlab-lgbm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
