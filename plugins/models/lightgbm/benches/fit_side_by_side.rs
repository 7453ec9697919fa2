//! Per-fit time of `regression` (pure-Rust histogram boosting) and of
//! LightGBM on the same matrices, with criterion:
//!
//! ```sh
//! cargo bench -p forecastlab-model-lightgbm --features enabled --bench fit_side_by_side
//! ```
//!
//! Matrices: the V1 feature frame of one seeded retail series of 1,100
//! days (the size of a backtest fold on three years of daily data), and
//! the stacked global matrix of 20 such series with the series-level
//! columns. Each is fitted the way a backtest fits (points only, no
//! interval calibration) by
//!
//! * `regression/default` — the registered `regression` model, defaults
//!   (200 trees, learning rate 0.05, seasonal base);
//! * `regression/100_trees` — the same with LightGBM's tree count;
//! * `lightgbm/default` — the registered `lightgbm` model, defaults (100
//!   trees, learning rate 0.1, one thread);
//! * `lightgbm/200_trees` — the same with `regression`'s defaults (200
//!   trees, learning rate 0.05): the same work as `regression/default`;
//! * `lightgbm/booster_only` — LightGBM's own training call alone.

use chrono::{Datelike, Days, NaiveDate};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use forecastlab_core::{
    frame::{build_training_frame, FrameSpec, SeriesData},
    global::{self, GlobalInput},
    testing::Rng,
    FeatureMatrix, SeriesKey, TrainingData,
};
use forecastlab_model_lightgbm::{train_booster, LightGbmConfig};
use serde_json::json;

// Links the regression plugin's registration.
use forecastlab_model_regression as _;

const DAYS: usize = 1_100;

/// One seeded retail series: level, weekly pattern, trend, price cuts.
fn series(index: usize, rng: &mut Rng) -> SeriesData {
    let start = NaiveDate::from_ymd_opt(2022, 1, 1).expect("date");
    let level = 5.0 + rng.uniform() * 40.0;
    let weekly: Vec<f64> = (0..7).map(|_| 0.7 + rng.uniform() * 0.6).collect();
    let mut dates = Vec::with_capacity(DAYS);
    let mut target = Vec::with_capacity(DAYS);
    let mut price = Vec::with_capacity(DAYS);
    for d in 0..DAYS {
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
            store_id: 1 + (index / 10) as i64,
            product_id: 1 + (index % 10) as i64,
        },
        dates,
        target,
        price,
        ..SeriesData::default()
    }
}

fn matrices() -> Vec<(&'static str, FeatureMatrix, Vec<f64>)> {
    let mut rng = Rng(0x5EED_1234_ABCD_0002);
    let all: Vec<SeriesData> = (0..20).map(|i| series(i, &mut rng)).collect();
    let one = build_training_frame(&FrameSpec::v1(), &all[0]).expect("frame");
    let inputs: Vec<GlobalInput<'_>> = all
        .iter()
        .map(|data| GlobalInput {
            data,
            category: None,
        })
        .collect();
    let stacked = global::build_training(&FrameSpec::v1(), &inputs).expect("global frame");
    vec![
        ("one_series_1100_days", one.x, one.y),
        ("global_20_series", stacked.x, stacked.y),
    ]
}

fn fit_side_by_side(c: &mut Criterion) {
    let build = |config: serde_json::Value| {
        let name = config["model_type"]
            .as_str()
            .expect("model_type")
            .to_owned();
        let registration = forecastlab_core::model(&name).expect("registered");
        (registration.build)(&config).expect("config")
    };
    let models = [
        (
            "regression/default",
            build(json!({"model_type": "regression"})),
        ),
        (
            "regression/100_trees",
            build(json!({"model_type": "regression", "max_iter": 100})),
        ),
        ("lightgbm/default", build(json!({"model_type": "lightgbm"}))),
        (
            "lightgbm/200_trees",
            build(json!({"model_type": "lightgbm", "n_estimators": 200, "learning_rate": 0.05})),
        ),
    ];
    let booster_config = LightGbmConfig::from_json(&json!({})).expect("config");
    for (matrix, x, y) in matrices() {
        let mut group = c.benchmark_group(format!("fit/{matrix}"));
        group.sample_size(10);
        for (name, model) in &models {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| {
                    model
                        .fit_point(&TrainingData {
                            target: y.as_slice(),
                            features: Some(&x),
                            seed: 42,
                        })
                        .expect("fit")
                });
            });
        }
        group.bench_function(BenchmarkId::from_parameter("lightgbm/booster_only"), |b| {
            b.iter(|| train_booster(&x, &y, &booster_config, 42).expect("train"));
        });
        group.finish();
    }
}

criterion_group!(benches, fit_side_by_side);
criterion_main!(benches);
