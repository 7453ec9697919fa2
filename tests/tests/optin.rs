//! The opt-in models (LightGBM, XGBoost, random forest) over HTTP.
//!
//! In the default build (no Cargo features) each opt-in model must be
//! refused with a 400 that names the Cargo feature. Built with a feature
//! (`cargo test -p forecastlab-tests --features lightgbm --test optin`, or
//! `--features lightgbm,xgboost,random-forest` for all three), the model must be refused
//! while its runtime flag is off (400 naming the flag), and with the flag on
//! it must train, predict with intervals, backtest — beating
//! `seasonal_naive` on seeded retail data — and be listed as enabled.
//! Built with `local-embedder`, the server must link the `local` embedder.

use chrono::{Datelike, Days, NaiveDate};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    jobs, Backend, TestApp,
};
use serde_json::{json, Value};

/// Series start.
const START: &str = "2024-01-01";
/// Days of sales seeded.
const DAYS: u64 = 240;

fn day(offset: u64) -> NaiveDate {
    fixtures::d(START) + Days::new(offset)
}

/// A small deterministic generator (xorshift) so the data is fixed.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Seeds one store and one product with `DAYS` days of retail sales: a
/// weekly pattern, a slow trend, noise, and unannounced price cuts (a
/// quarter of the days, 35 % off) that lift demand by 80 %. The price is in
/// the feature frame (`price_factor`); `seasonal_naive` cannot see it.
/// Returns `(store_id, product_id)`.
async fn seed_retail(app: &TestApp) -> (i64, i64) {
    let store = fixtures::store(app, "S-OPT").insert().await;
    let product = fixtures::product(app, "SKU-OPT")
        .base_price("10.00")
        .insert()
        .await;
    fixtures::calendar(app, day(0), day(DAYS + 30)).await;
    let weekly = [0.0, -2.0, -1.0, 1.0, 4.0, 12.0, 8.0];
    let mut rng = Rng(0x5EED_0F0F_1234_5678);
    let rows: Vec<Sale> = (0..DAYS)
        .map(|offset| {
            let date = day(offset);
            let promo = rng.uniform() < 0.25;
            let base = 20.0
                + offset as f64 * 0.02
                + weekly[date.weekday().num_days_from_monday() as usize];
            let lift = if promo { 1.8 } else { 1.0 };
            let noise = (rng.uniform() - 0.5) * 4.0;
            let quantity = (base * lift + noise).round().max(0.0) as i64;
            let price = if promo { "6.50" } else { "10.00" };
            let cents: i64 = if promo { 650 } else { 1000 };
            let total = format!("{}.{:02}", quantity * cents / 100, quantity * cents % 100);
            Sale::new(
                &date.format("%Y-%m-%d").to_string(),
                store,
                product,
                quantity,
                price,
                &total,
            )
        })
        .collect();
    fixtures::sales(app, &rows).await;
    (store, product)
}

fn train_body(store: i64, product: i64, config: Value) -> Value {
    json!({
        "store_id": store,
        "product_id": product,
        "train_start_date": START,
        "train_end_date": day(DAYS - 1).to_string(),
        "config": config,
    })
}

fn backtest_body(store: i64, product: i64, model_config: Value) -> Value {
    json!({
        "store_id": store,
        "product_id": product,
        "start_date": START,
        "end_date": day(DAYS - 1).to_string(),
        "config": {
            "split_config": {"strategy": "expanding", "n_splits": 4, "min_train_size": 90, "horizon": 14},
            "model_config_main": model_config,
            "include_baselines": true,
        },
    })
}

/// The catalog entry of `model`.
async fn catalog_entry(app: &TestApp, model: &str) -> Value {
    let catalog = app.get("/forecasting/models").await;
    catalog.assert_ok()["models"]
        .as_array()
        .expect("models array")
        .iter()
        .find(|m| m["model_type"] == model)
        .cloned()
        .unwrap_or_else(|| panic!("{model} missing from the catalog: {}", catalog.text))
}

/// Compiled out: train and backtest are 400s naming the Cargo feature, and
/// nothing is written.
#[allow(dead_code)]
async fn refused_as_compiled_out(backend: Backend, model: &str, cargo_feature: &str) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = seed_retail(&app).await;
    let hint = format!("Cargo feature '{cargo_feature}'");
    let train = app
        .post(
            "/forecasting/train",
            &train_body(store, product, json!({"model_type": model})),
        )
        .await;
    let body = train.assert_problem(400, "BAD_REQUEST");
    assert!(
        body["detail"].as_str().unwrap().contains(&hint),
        "{}",
        train.text
    );
    let backtest = app
        .post(
            "/backtesting/run",
            &backtest_body(store, product, json!({"model_type": model})),
        )
        .await;
    let body = backtest.assert_problem(400, "BAD_REQUEST");
    assert!(
        body["detail"].as_str().unwrap().contains(&hint),
        "{}",
        backtest.text
    );
    let entry = catalog_entry(&app, model).await;
    assert_eq!(entry["compiled_in"], false);
    assert_eq!(entry["enabled"], false);
    assert_eq!(entry["cargo_feature"], cargo_feature);
    let artifacts = app.dir.path().join("artifacts").join("models");
    let written = std::fs::read_dir(&artifacts)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(written, 0, "a refused train wrote an artifact");
}

/// Compiled in, flag off: 400 naming the flag's environment variable.
#[allow(dead_code)]
async fn refused_while_flag_off(backend: Backend, model: &str, flag_env: &str) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = seed_retail(&app).await;
    let train = app
        .post(
            "/forecasting/train",
            &train_body(store, product, json!({"model_type": model})),
        )
        .await;
    let body = train.assert_problem(400, "BAD_REQUEST");
    assert!(
        body["detail"].as_str().unwrap().contains(flag_env),
        "{}",
        train.text
    );
    let backtest = app
        .post(
            "/backtesting/run",
            &backtest_body(store, product, json!({"model_type": model})),
        )
        .await;
    let body = backtest.assert_problem(400, "BAD_REQUEST");
    assert!(
        body["detail"].as_str().unwrap().contains(flag_env),
        "{}",
        backtest.text
    );
    let entry = catalog_entry(&app, model).await;
    assert_eq!(entry["compiled_in"], true);
    assert_eq!(entry["enabled"], false);
    assert_eq!(entry["family"], "tree");
    assert_eq!(entry["requires_features"], true);
}

/// A train job registers a run whose forecast is explained at several
/// steps by SHAP values that add up to that step's forecast within 1e-6.
#[allow(dead_code)]
async fn explained_by_shap(app: &TestApp, store: i64, product: i64, model: &str, config: &Value) {
    let trained = jobs::submit(
        app,
        "train",
        json!({"model_type": model, "store_id": store, "product_id": product,
               "start_date": START, "end_date": day(DAYS - 1).to_string(), "config": config}),
    )
    .await;
    let job = jobs::wait_for(app, trained["job_id"].as_str().unwrap(), jobs::finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    let run_id = job["result"]["run_id"].as_str().unwrap();
    let model_path = job["result"]["model_path"].as_str().unwrap();
    let forecast = app
        .post(
            "/forecasting/predict",
            &json!({"store_id": store, "product_id": product, "horizon": 10, "model_path": model_path}),
        )
        .await
        .assert_ok()
        .clone();
    for step in [1_usize, 4, 10] {
        let e = app
            .get(&format!("/explain/runs/{run_id}?step={step}"))
            .await
            .assert_ok()
            .clone();
        assert_eq!(e["method"], "shap", "{model}");
        let expected = forecast["forecasts"][step - 1]["forecast"]
            .as_f64()
            .unwrap();
        let drivers = e["drivers"].as_array().unwrap();
        assert!(!drivers.is_empty(), "{model}: no drivers");
        let total = e["base_value"].as_f64().unwrap()
            + drivers
                .iter()
                .map(|d| d["contribution"].as_f64().unwrap())
                .sum::<f64>();
        for value in [e["forecast_value"].as_f64().unwrap(), total] {
            assert!(
                (value - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                "{model} step {step}: {value} vs forecast {expected}"
            );
        }
    }
}

/// Compiled in, flag on: config validation, train, predict with an
/// interval, determinism, SHAP explanations, backtest beating
/// `seasonal_naive`.
#[allow(dead_code)]
async fn works_when_enabled(backend: Backend, model: &str, flag_env: &str, config: Value) {
    let app = TestApp::spawn_with(
        backend,
        &[(flag_env, "true"), ("FORECAST_RANDOM_SEED", "42")],
    )
    .await;
    let (store, product) = seed_retail(&app).await;
    let entry = catalog_entry(&app, model).await;
    assert_eq!(entry["enabled"], true);

    // Extra keys and out-of-range values are rejected before any work.
    let mut extra = config.clone();
    extra["no_such_key"] = json!(1);
    let bad = app
        .post("/forecasting/train", &train_body(store, product, extra))
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.text);
    let mut out_of_range = config.clone();
    out_of_range["n_estimators"] = json!(5);
    let bad = app
        .post(
            "/forecasting/train",
            &train_body(store, product, out_of_range),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.text);

    // Train twice: same seed, same data → same forecasts.
    let mut paths = Vec::new();
    for _ in 0..2 {
        let train = app
            .post(
                "/forecasting/train",
                &train_body(store, product, config.clone()),
            )
            .await;
        let body = train.assert_ok();
        assert_eq!(body["model_type"], model);
        assert_eq!(body["n_observations"], DAYS);
        assert_eq!(body["config_hash"].as_str().unwrap().len(), 16);
        paths.push(body["model_path"].as_str().unwrap().to_owned());
    }
    let mut forecasts = Vec::new();
    for path in &paths {
        let predict = app
            .post(
                "/forecasting/predict",
                &json!({
                    "store_id": store,
                    "product_id": product,
                    "horizon": 7,
                    "model_path": path,
                    "interval_level": 0.9,
                }),
            )
            .await;
        let body = predict.assert_ok();
        assert_eq!(body["model_type"], model);
        let points = body["forecasts"].as_array().unwrap();
        assert_eq!(points.len(), 7);
        assert_eq!(points[0]["date"], day(DAYS).to_string());
        for point in points {
            let value = point["forecast"].as_f64().expect("finite forecast");
            let lower = point["lower_bound"].as_f64().expect("lower bound");
            let upper = point["upper_bound"].as_f64().expect("upper bound");
            assert!(lower <= value && value <= upper, "{point}");
            assert!((0.0..200.0).contains(&value), "{point}");
        }
        forecasts.push(
            points
                .iter()
                .map(|p| p["forecast"].clone())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(forecasts[0], forecasts[1], "same seed, different forecasts");

    explained_by_shap(&app, store, product, model, &config).await;

    // Backtest: the feature-aware model sees the price cuts, the seasonal
    // naive baseline does not.
    let backtest = app
        .post(
            "/backtesting/run",
            &backtest_body(store, product, config.clone()),
        )
        .await;
    let body = backtest.assert_ok();
    let main = &body["main_model_results"];
    assert_eq!(main["model_type"], model);
    assert_eq!(main["feature_aware"], true);
    let main_wape = main["aggregated_metrics"]["wape"]
        .as_f64()
        .expect("main WAPE");
    let seasonal = body["baseline_results"]
        .as_array()
        .expect("baselines")
        .iter()
        .find(|b| b["model_type"] == "seasonal_naive")
        .expect("seasonal_naive baseline");
    let seasonal_wape = seasonal["aggregated_metrics"]["wape"]
        .as_f64()
        .expect("baseline WAPE");
    eprintln!("{model}: backtest WAPE {main_wape:.2} vs seasonal_naive {seasonal_wape:.2}");
    assert!(
        main_wape < seasonal_wape,
        "{model} WAPE {main_wape} does not beat seasonal_naive {seasonal_wape}"
    );

    // Jobs: a train job registers a verifiable run; a predict job through
    // that run gives the forecasts of POST /forecasting/predict (same seed,
    // same data); a batch job with a backtest registers and scores it.
    let window = json!({
        "model_type": model,
        "config": config,
        "store_id": store,
        "product_id": product,
        "start_date": START,
        "end_date": day(DAYS - 1).to_string(),
    });
    let train = jobs::run(&app, "train", window.clone()).await;
    let run_id = train["run_id"].as_str().expect("run_id").to_owned();
    let run = app.get(&format!("/registry/runs/{run_id}")).await;
    let run = run.assert_ok();
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(run["model_type"], model);
    let verify = app.get(&format!("/registry/runs/{run_id}/verify")).await;
    assert_eq!(verify.assert_ok()["verified"], true);
    let predicted = jobs::run(
        &app,
        "predict",
        json!({"run_id": run_id, "horizon": 7, "interval_level": 0.9}),
    )
    .await;
    assert_eq!(predicted["model_type"], model);
    let job_forecasts: Vec<Value> = predicted["forecasts"]
        .as_array()
        .expect("forecasts")
        .iter()
        .map(|p| p["forecast"].clone())
        .collect();
    assert_eq!(job_forecasts, forecasts[0]);

    let mut batch = window;
    for key in ["store_id", "product_id"] {
        batch.as_object_mut().expect("object").remove(key);
    }
    batch["store_ids"] = json!([store]);
    batch["backtest"] = json!(true);
    let batch = jobs::run(&app, "batch", batch).await;
    assert_eq!(batch["series_succeeded"], 1, "{batch}");
    let entry = &batch["runs"][0];
    assert!(entry["metrics"]["wape"].as_f64().is_some(), "{entry}");
    let run = app
        .get(&format!(
            "/registry/runs/{}",
            entry["run_id"].as_str().expect("batch run id")
        ))
        .await;
    assert_eq!(run.assert_ok()["status"], "success");
}

/// On the seeder's `retail_standard` data (fixed seed), the model's
/// backtest WAPE, averaged over three series, beats `seasonal_naive`'s.
#[allow(dead_code)]
async fn beats_seasonal_naive_on_seeder_data(
    backend: Backend,
    model: &str,
    flag_env: &str,
    config: Value,
) {
    let app = TestApp::spawn_with(
        backend,
        &[(flag_env, "true"), ("FORECAST_RANDOM_SEED", "42")],
    )
    .await;
    let seeded = app
        .post(
            "/seeder/generate",
            &json!({"scenario": "retail_standard", "seed": 42, "stores": 1, "products": 3,
                    "start_date": "2024-01-01", "end_date": "2024-10-31"}),
        )
        .await;
    seeded.assert_ok();
    let (mut main_total, mut seasonal_total) = (0.0, 0.0);
    for product in 1..=3 {
        let body = json!({
            "store_id": 1,
            "product_id": product,
            "start_date": "2024-01-01",
            "end_date": "2024-10-31",
            "config": {
                "split_config": {"n_splits": 4, "min_train_size": 120, "horizon": 14},
                "model_config_main": config,
            },
        });
        let backtest = app.post("/backtesting/run", &body).await;
        let result = backtest.assert_ok();
        let main = result["main_model_results"]["aggregated_metrics"]["wape"]
            .as_f64()
            .expect("main WAPE");
        let seasonal = result["baseline_results"]
            .as_array()
            .expect("baselines")
            .iter()
            .find(|b| b["model_type"] == "seasonal_naive")
            .and_then(|b| b["aggregated_metrics"]["wape"].as_f64())
            .expect("seasonal_naive WAPE");
        eprintln!(
            "{model} on seeded product {product}: WAPE {main:.2} vs seasonal_naive {seasonal:.2}"
        );
        main_total += main;
        seasonal_total += seasonal;
    }
    assert!(
        main_total < seasonal_total,
        "{model}: mean WAPE {} does not beat seasonal_naive {}",
        main_total / 3.0,
        seasonal_total / 3.0
    );
}

/// The tests of one opt-in model. Compiled out: train and backtest are
/// refused naming the Cargo feature. Compiled in: refused while the flag is
/// off, then end to end (`end_to_end` config) and beating `seasonal_naive`
/// on seeder data (`seeded` config).
macro_rules! opt_in_model_tests {
    ($module:ident, model: $model:literal, feature: $feature:literal, flag: $flag:literal,
     end_to_end: $end_to_end:expr, seeded: $seeded:expr $(,)?) => {
        #[cfg(not(feature = $feature))]
        mod $module {
            use super::*;

            async fn refused_when_compiled_out(backend: Backend) {
                refused_as_compiled_out(backend, $model, $feature).await;
            }

            both_backends!(refused_when_compiled_out);
        }

        #[cfg(feature = $feature)]
        mod $module {
            use super::*;

            async fn flag_off(backend: Backend) {
                refused_while_flag_off(backend, $model, $flag).await;
            }

            async fn end_to_end(backend: Backend) {
                works_when_enabled(backend, $model, $flag, $end_to_end).await;
            }

            async fn beats_seasonal_naive_on_seeded_data(backend: Backend) {
                beats_seasonal_naive_on_seeder_data(backend, $model, $flag, $seeded).await;
            }

            both_backends!(flag_off, end_to_end, beats_seasonal_naive_on_seeded_data);
        }
    };
}

opt_in_model_tests!(
    lightgbm,
    model: "lightgbm",
    feature: "lightgbm",
    flag: "FORECAST_ENABLE_LIGHTGBM",
    end_to_end: json!({"model_type": "lightgbm", "n_estimators": 100, "max_depth": 4, "learning_rate": 0.1}),
    seeded: json!({"model_type": "lightgbm"}),
);

opt_in_model_tests!(
    xgboost,
    model: "xgboost",
    feature: "xgboost",
    flag: "FORECAST_ENABLE_XGBOOST",
    end_to_end: json!({"model_type": "xgboost", "n_estimators": 100, "max_depth": 4, "learning_rate": 0.1}),
    seeded: json!({"model_type": "xgboost"}),
);

opt_in_model_tests!(
    random_forest,
    model: "random_forest",
    feature: "random-forest",
    flag: "FORECAST_ENABLE_RANDOM_FOREST",
    end_to_end: json!({"model_type": "random_forest", "n_estimators": 50, "max_depth": 8, "min_samples_leaf": 2}),
    seeded: json!({"model_type": "random_forest", "n_estimators": 50}),
);

/// LightGBM as a global model: one backtest fit per fold across every
/// seeded series, and one artifact that forecasts each of them.
#[cfg(feature = "lightgbm")]
mod global_lightgbm {
    use super::*;

    async fn fits_once_across_series(backend: Backend) {
        let app = TestApp::spawn_with(backend, &[("FORECAST_ENABLE_LIGHTGBM", "true")]).await;
        app.post(
            "/seeder/generate",
            &json!({"scenario": "retail_standard", "seed": 7, "stores": 1, "products": 4,
                    "start_date": "2024-01-01", "end_date": "2024-08-31"}),
        )
        .await
        .assert_ok();
        let backtest = app
            .post(
                "/backtesting/run",
                &json!({
                    "series": "all",
                    "start_date": "2024-01-01",
                    "end_date": "2024-08-31",
                    "config": {
                        "split_config": {"n_splits": 3, "min_train_size": 120, "horizon": 14},
                        "model_config_main": {"model_type": "lightgbm"},
                        "global_model": true
                    }
                }),
            )
            .await;
        let result = backtest.assert_ok();
        assert_eq!(result["leakage_check_passed"], true);
        let pooled = &result["pooled"];
        assert_eq!(pooled["main_model"]["model_type"], "lightgbm");
        assert_eq!(pooled["main_model"]["n_series"], 4);
        let wape = pooled["main_model"]["pooled_metrics"]["wape"]
            .as_f64()
            .expect("wape");
        let naive = pooled["baselines"][0]["pooled_metrics"]["wape"]
            .as_f64()
            .expect("naive wape");
        assert!(wape < naive, "global lightgbm {wape} vs naive {naive}");

        let trained = app
            .post(
                "/forecasting/train-global",
                &json!({
                    "series": "all",
                    "train_start_date": "2024-01-01",
                    "train_end_date": "2024-08-31",
                    "config": {"model_type": "lightgbm", "n_estimators": 50}
                }),
            )
            .await;
        let trained = trained.assert_ok().clone();
        assert_eq!(trained["series"].as_array().map(Vec::len), Some(4));
        for series in trained["series"].as_array().expect("series") {
            let predicted = app
                .post(
                    "/forecasting/predict",
                    &json!({
                        "store_id": series["store_id"], "product_id": series["product_id"],
                        "horizon": 7, "model_path": trained["artifact_key"], "interval_level": 0.9
                    }),
                )
                .await;
            let body = predicted.assert_ok();
            let points = body["forecasts"].as_array().expect("forecasts");
            assert_eq!(points.len(), 7);
            assert!(points.iter().all(|p| {
                p["forecast"].as_f64().is_some_and(f64::is_finite)
                    && p["lower_bound"]
                        .as_f64()
                        .zip(p["upper_bound"].as_f64())
                        .is_some_and(|(lower, upper)| lower < upper)
            }));
        }
    }

    both_backends!(fits_once_across_series);
}

/// The server built with `local-embedder` links the `local` embedder: its
/// registration is visible to the same lookup the RAG routes use.
#[cfg(feature = "local-embedder")]
#[test]
fn the_local_embedder_is_linked() {
    let registration = forecastlab_core::ai::embedder("local").expect("`local` is linked");
    assert_eq!(registration.name, "local");
}
