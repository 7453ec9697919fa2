//! Accuracy on the seeder's retail presets, through the real path: seed a
//! preset into a fresh SQLite database (`POST /seeder/generate`), then run
//! `POST /backtesting/run` over every series (5 expanding folds, horizon
//! 28) for each model and compare pooled WAPE with `seasonal_naive`'s on
//! the very same folds.
//!
//! ```sh
//! cargo test -p forecastlab-tests --test accuracy -- --nocapture
//! ```
//!
//! `ACCURACY_SEEDS` (comma-separated, default `1`), `ACCURACY_PRESETS`
//! (default `retail_standard`), `ACCURACY_STORES` (5) and
//! `ACCURACY_PRODUCTS` (20) change the measurement (100 series by default,
//! a fifth of the preset's own 10 × 50); the table printed is the one the
//! README quotes. With `--features lightgbm` the table also has LightGBM
//! per series and as a global model, once per objective in
//! `ACCURACY_OBJECTIVES` (default `squared_error,absolute_error`), and the
//! best global LightGBM must beat the best per-series model (LightGBM per
//! series included) by at least 5 % WAPE. `ACCURACY_LIGHTGBM` (a JSON
//! object, e.g. `{"n_estimators": 300, "learning_rate": 0.05}`) sets the
//! other LightGBM settings of both. WAPE is in percent.

use forecastlab_tests::{Backend, TestApp};
use serde_json::{json, Map, Value};

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn env_number(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seeds `preset` with `seed` over 2024 into the app's database.
async fn seed_preset(app: &TestApp, preset: &str, seed: i64) {
    let body = json!({
        "scenario": preset,
        "seed": seed,
        "stores": env_number("ACCURACY_STORES", 5),
        "products": env_number("ACCURACY_PRODUCTS", 20),
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
    });
    app.post("/seeder/generate", &body).await.assert_status(201);
}

/// Pooled WAPE of the main model and of `seasonal_naive` over every series.
async fn pooled_wape(app: &TestApp, model: Value, extra: &Value) -> (f64, f64) {
    let mut config = json!({
        "split_config": {"strategy": "expanding", "n_splits": 5, "min_train_size": 180, "horizon": 28},
        "model_config_main": model,
        "include_baselines": true,
        "store_fold_details": false,
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let body = json!({
        "series": "all",
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "config": config,
    });
    let response = app.post("/backtesting/run", &body).await;
    let pooled = &response.assert_ok()["pooled"];
    let main = pooled["main_model"]["pooled_metrics"]["wape"]
        .as_f64()
        .expect("main wape");
    let seasonal = pooled["baselines"]
        .as_array()
        .expect("baselines")
        .iter()
        .find(|b| b["model_type"] == "seasonal_naive")
        .and_then(|b| b["pooled_metrics"]["wape"].as_f64())
        .expect("seasonal wape");
    (main, seasonal)
}

/// Label prefix of the models fitted once across every series.
const GLOBAL: &str = "global ";

/// The models measured: (label, model config, extra backtest config).
fn models() -> Vec<(String, Value, Value)> {
    let global = json!({"global_model": true});
    let model = |name: &str| json!({ "model_type": name });
    let mut models = vec![
        ("regression".to_owned(), model("regression"), json!({})),
        (
            "seasonal_average".to_owned(),
            json!({"model_type": "seasonal_average", "season_length": 7, "lookback_cycles": 4}),
            json!({}),
        ),
        ("prophet_like".to_owned(), model("prophet_like"), json!({})),
        (
            format!("{GLOBAL}regression"),
            model("regression"),
            global.clone(),
        ),
    ];
    for name in ["theta", "optimized_theta", "auto_ets", "mstl", "auto_arima"] {
        models.push((name.to_owned(), model(name), json!({})));
    }
    if cfg!(feature = "lightgbm") {
        let settings: Map<String, Value> = std::env::var("ACCURACY_LIGHTGBM")
            .map(|text| serde_json::from_str(&text).expect("ACCURACY_LIGHTGBM is a JSON object"))
            .unwrap_or_default();
        for objective in env_list("ACCURACY_OBJECTIVES", "squared_error,absolute_error") {
            let mut config = json!({"model_type": "lightgbm", "objective": objective});
            if let Some(config) = config.as_object_mut() {
                config.extend(settings.clone());
            }
            let label = format!("lightgbm {objective}");
            models.push((label.clone(), config.clone(), json!({})));
            models.push((format!("{GLOBAL}{label}"), config, global.clone()));
        }
    }
    models
}

#[tokio::test(flavor = "multi_thread")]
async fn regression_beats_seasonal_naive_on_the_retail_presets() {
    println!(
        "{:<16} {:>5} {:<30} {:>9} {:>15}",
        "preset", "seed", "model", "WAPE", "seasonal naive"
    );
    for preset in env_list("ACCURACY_PRESETS", "retail_standard") {
        for seed in env_list("ACCURACY_SEEDS", "1") {
            let seed: i64 = seed.parse().expect("numeric seed");
            // A backtest of the slowest model over 100 series takes about
            // two minutes of a debug build on two busy cores: allow it.
            let settings = [
                ("FORECAST_ENABLE_LIGHTGBM", "true"),
                ("REQUEST_TIMEOUT_LONG_SECONDS", "900"),
            ];
            let app = TestApp::spawn_with(Backend::Sqlite, &settings).await;
            seed_preset(&app, &preset, seed).await;
            let mut wapes = Vec::new();
            for (name, model, extra) in models() {
                let started = std::time::Instant::now();
                let (wape, seasonal) = pooled_wape(&app, model, &extra).await;
                println!(
                    "{preset:<16} {seed:>5} {name:<30} {:>8.2}% {:>14.2}%   ({:.1} s)",
                    wape,
                    seasonal,
                    started.elapsed().as_secs_f64()
                );
                assert!(wape.is_finite() && seasonal.is_finite());
                if name == "regression" {
                    assert!(
                        wape < seasonal,
                        "{preset} seed {seed}: regression {wape} vs seasonal naive {seasonal}"
                    );
                }
                wapes.push((name, wape));
            }
            let best = |global: bool| {
                wapes
                    .iter()
                    .filter(|(name, _)| name.starts_with(GLOBAL) == global)
                    .filter(|(name, _)| !global || name.contains("lightgbm"))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .cloned()
            };
            let (best_local, best_local_wape) = best(false).expect("per-series models ran");
            println!(
                "{preset:<16} {seed:>5} best per series: {best_local} ({best_local_wape:.2}%)"
            );
            if let Some((global, global_wape)) = best(true) {
                println!(
                    "{preset:<16} {seed:>5} best {global} vs best per series: {:+.1}%",
                    100.0 * (global_wape / best_local_wape - 1.0)
                );
                assert!(
                    global_wape <= 0.95 * best_local_wape,
                    "{preset} seed {seed}: {global} {global_wape} vs {best_local} {best_local_wape}"
                );
            }
        }
    }
}
