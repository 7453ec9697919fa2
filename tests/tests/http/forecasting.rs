//! `/forecasting/train` and `/forecasting/predict` on both databases: every
//! always-on model, config validation, the model registry's 400s, artifacts
//! (missing, corrupt, outside the directory, mismatched), intervals, and the
//! feature-aware models beating naive on a retail-like series.

use forecastlab_tests::{
    both_backends,
    fixtures::{self, d, Sale},
    json::merged,
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Weekly pattern + promotions + deterministic noise for product 1, a flat
/// short series for product 2 (10 days), over 2024.
fn quantity(day: i64) -> i64 {
    let dow = (day % 7) as f64; // 2024-01-01 is a Monday
    let promo = if in_promo(day) { 25.0 } else { 0.0 };
    let mut state = (day as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    state ^= state >> 29;
    let noise = ((state % 1000) as f64 / 1000.0 - 0.5) * 6.0;
    (20.0 + 5.0 * dow + promo + noise).round().max(0.0) as i64
}

fn in_promo(day: i64) -> bool {
    day % 23 < 3
}

fn date(day: i64) -> String {
    (d("2024-01-01") + chrono::Days::new(day as u64)).to_string()
}

async fn seed(app: &TestApp) {
    app.exec(
        "INSERT INTO store (id, code, name) VALUES (1, 'S1', 'Store 1');\n\
         INSERT INTO product (id, sku, name) VALUES (1, 'P1', 'Product 1'), (2, 'P2', 'Product 2');",
    )
    .await;
    fixtures::calendar(app, d("2024-01-01"), d("2024-12-31")).await;
    let mut sales: Vec<Sale> = (0..305)
        .map(|day| {
            let price = if in_promo(day) { 8.0 } else { 10.0 };
            let q = quantity(day);
            let total = format!("{:.2}", price * q as f64);
            Sale::new(&date(day), 1, 1, q, &format!("{price:.2}"), &total)
        })
        .collect();
    sales.extend((0..10).map(|day| Sale::new(&date(day), 1, 2, 5, "3.00", "15.00")));
    fixtures::sales(app, &sales).await;
    let promos: Vec<String> = (0..366)
        .filter(|day| day % 23 == 0)
        .map(|day| {
            format!(
                "(1, 1, 'promo {day}', 0.2000, '{}', '{}', 'pct_off')",
                date(day),
                date(day + 2)
            )
        })
        .collect();
    app.exec(&format!(
        "INSERT INTO promotion (product_id, store_id, name, discount_pct, start_date, end_date, kind) VALUES {};",
        promos.join(", ")
    ))
    .await;
}

fn train_body(config: Value) -> Value {
    json!({
        "store_id": 1, "product_id": 1,
        "train_start_date": "2024-01-01", "train_end_date": "2024-09-30",
        "config": config,
    })
}

async fn train(app: &TestApp, config: Value) -> Value {
    let response = app.post("/forecasting/train", &train_body(config)).await;
    response.assert_ok().clone()
}

/// Predicts store 1 / product 1 (`extra` adds or replaces members).
async fn predict(app: &TestApp, model_path: &str, horizon: i64, extra: Value) -> Value {
    let base =
        json!({"store_id": 1, "product_id": 1, "horizon": horizon, "model_path": model_path});
    let response = app
        .post("/forecasting/predict", &merged(&base, &extra))
        .await;
    response.assert_ok().clone()
}

fn points(response: &Value) -> Vec<f64> {
    response["forecasts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["forecast"].as_f64().unwrap())
        .collect()
}

fn artifact_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.dir.path().join("artifacts").join("models"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// 2024-09-30 is day 273; the last week of training is days 267..=273.
const END: i64 = 273;

async fn every_target_only_model_trains_and_predicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let last_week: Vec<f64> = (END - 6..=END).map(|d| quantity(d) as f64).collect();
    let cases = [
        json!({"model_type": "naive"}),
        json!({"model_type": "seasonal_naive", "season_length": 7}),
        json!({"model_type": "moving_average", "window_size": 7}),
        json!({"model_type": "weighted_moving_average", "window_size": 7, "weight_strategy": "exponential", "decay": 0.5}),
        json!({"model_type": "seasonal_average", "season_length": 7, "lookback_cycles": 4, "trim_outliers": true}),
        json!({"model_type": "trend_regression_baseline", "alpha": 1.0}),
    ];
    for config in cases {
        let trained = train(&app, config.clone()).await;
        let model_type = config["model_type"].as_str().unwrap();
        assert_eq!(trained["model_type"], model_type);
        assert_eq!(trained["n_observations"], 274);
        assert_eq!(trained["train_end_date"], "2024-09-30");
        assert_eq!(trained["config_hash"].as_str().unwrap().len(), 16);
        assert_eq!(trained["config"]["schema_version"], "1.0");
        let path = trained["model_path"].as_str().unwrap();
        let key = trained["artifact_key"].as_str().unwrap();
        assert!(path.ends_with(&format!("model_{key}.flmodel")), "{path}");
        assert!(std::path::Path::new(path).exists());
        assert_eq!(trained["artifact_sha256"].as_str().unwrap().len(), 64);

        let predicted = predict(&app, path, 7, json!({})).await;
        assert_eq!(predicted["model_type"], model_type);
        assert_eq!(predicted["config_hash"], trained["config_hash"]);
        assert_eq!(predicted["horizon"], 7);
        let forecasts = predicted["forecasts"].as_array().unwrap();
        assert_eq!(forecasts[0]["date"], "2024-10-01");
        assert_eq!(forecasts[6]["date"], "2024-10-07");
        assert!(forecasts
            .iter()
            .all(|f| f["lower_bound"].is_null() && f["upper_bound"].is_null()));
        let values = points(&predicted);
        match model_type {
            "naive" => assert_eq!(values, vec![quantity(END) as f64; 7]),
            "seasonal_naive" => assert_eq!(values, last_week),
            "moving_average" => {
                let mean = last_week.iter().sum::<f64>() / 7.0;
                assert!(values.iter().all(|v| (v - mean).abs() < 1e-9));
            }
            _ => assert!(
                values.iter().all(|v| v.is_finite() && *v > 0.0),
                "{values:?}"
            ),
        }
        // The key works in place of the path, and reloading is deterministic.
        let again = predict(&app, key, 7, json!({})).await;
        assert_eq!(points(&again), values);
    }
    // Same config → same hash; defaults are filled in before hashing.
    let a = train(&app, json!({"model_type": "moving_average"})).await;
    let b = train(
        &app,
        json!({"model_type": "moving_average", "window_size": 7, "schema_version": "1.0"}),
    )
    .await;
    let c = train(
        &app,
        json!({"model_type": "moving_average", "window_size": 8}),
    )
    .await;
    assert_eq!(a["config_hash"], b["config_hash"]);
    assert_ne!(a["config_hash"], c["config_hash"]);
    assert_ne!(a["artifact_key"], b["artifact_key"]);
}

async fn intervals_cover_the_forecast_and_widen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    for model in [
        "naive",
        "seasonal_naive",
        "trend_regression_baseline",
        "regression",
        "prophet_like",
    ] {
        let trained = train(&app, json!({"model_type": model})).await;
        let path = trained["model_path"].as_str().unwrap();
        let narrow = predict(&app, path, 28, json!({"interval_level": 0.8})).await;
        let wide = predict(&app, path, 28, json!({"interval_level": 0.95})).await;
        assert_eq!(narrow["interval_level"], 0.8);
        assert!(narrow["interval_method"]
            .as_str()
            .unwrap()
            .starts_with("split_conformal"));
        let width = |r: &Value, h: usize| {
            let f = &r["forecasts"][h];
            let (lo, hi, p) = (
                f["lower_bound"].as_f64().unwrap(),
                f["upper_bound"].as_f64().unwrap(),
                f["forecast"].as_f64().unwrap(),
            );
            assert!(lo <= p && p <= hi, "{model}: {f}");
            hi - lo
        };
        for h in 0..28 {
            assert!(
                width(&wide, h) >= width(&narrow, h) - 1e-9,
                "{model} step {h}"
            );
        }
        assert!(
            width(&narrow, 27) >= width(&narrow, 0),
            "{model}: intervals never shrink"
        );
    }
}

async fn feature_aware_models_beat_naive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let actual: Vec<f64> = (END + 1..=END + 28).map(|d| quantity(d) as f64).collect();
    let wape = |f: &[f64]| {
        f.iter()
            .zip(&actual)
            .map(|(p, a)| (p - a).abs())
            .sum::<f64>()
            / actual.iter().sum::<f64>()
    };
    let naive = train(&app, json!({"model_type": "naive"})).await;
    let naive_wape = wape(&points(
        &predict(&app, naive["model_path"].as_str().unwrap(), 28, json!({})).await,
    ));
    for (config, version) in [
        (json!({"model_type": "regression"}), 1),
        (json!({"model_type": "prophet_like", "alpha": 1.0}), 1),
        (json!({"model_type": "regression", "max_iter": 100}), 2),
    ] {
        let mut body = train_body(config.clone());
        body["feature_frame_version"] = json!(version);
        let trained = app
            .post("/forecasting/train", &body)
            .await
            .assert_ok()
            .clone();
        assert_eq!(trained["requires_features"], true);
        assert_eq!(trained["n_observations"], 274);
        let path = trained["model_path"].as_str().unwrap();
        for strategy in ["direct", "recursive"] {
            let predicted = predict(&app, path, 28, json!({"strategy": strategy})).await;
            assert_eq!(predicted["strategy"], strategy);
            let model_wape = wape(&points(&predicted));
            assert!(
                model_wape < naive_wape,
                "{config} v{version} {strategy}: WAPE {model_wape} vs naive {naive_wape}"
            );
            let again = predict(&app, path, 28, json!({"strategy": strategy})).await;
            assert_eq!(
                points(&again),
                points(&predicted),
                "deterministic after reload"
            );
        }
    }
}

/// On data from the seeder (retail_standard, seed 42), regression and
/// prophet_like beat naive on a 28-day holdout, pooled over three series.
async fn feature_aware_models_beat_naive_on_seeded_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.post(
        "/seeder/generate",
        &json!({"scenario": "retail_standard", "seed": 42, "stores": 1, "products": 3,
                "start_date": "2024-01-01", "end_date": "2024-10-31"}),
    )
    .await
    .assert_ok();
    let configs = [
        json!({"model_type": "naive"}),
        json!({"model_type": "regression"}),
        json!({"model_type": "prophet_like"}),
    ];
    let mut abs_error = [0.0_f64; 3];
    let mut actual_total = 0.0_f64;
    for product in 1..=3_i64 {
        let actuals: Vec<(String, f64)> = forecastlab_server::with_db!(&app.db, pool => {
            sqlx::query_as::<_, (String, i32)>(
                "SELECT CAST(date AS TEXT), quantity FROM sales_daily \
                 WHERE store_id = 1 AND product_id = $1 AND date > '2024-10-03' ORDER BY date",
            )
            .bind(product as i32)
            .fetch_all(pool)
            .await
        })
        .unwrap()
        .into_iter()
        .map(|(date, quantity)| (date, f64::from(quantity)))
        .collect();
        actual_total += actuals.iter().map(|(_, q)| q).sum::<f64>();
        for (index, config) in configs.iter().enumerate() {
            let body = merged(
                &train_body(config.clone()),
                &json!({"product_id": product, "train_end_date": "2024-10-03"}),
            );
            let trained = app
                .post("/forecasting/train", &body)
                .await
                .assert_ok()
                .clone();
            let model_path = trained["model_path"].as_str().unwrap();
            let predicted = predict(&app, model_path, 28, json!({"product_id": product})).await;
            for point in predicted["forecasts"].as_array().unwrap() {
                let date = point["date"].as_str().unwrap();
                if let Some((_, actual)) = actuals.iter().find(|(d, _)| d == date) {
                    abs_error[index] += (point["forecast"].as_f64().unwrap() - actual).abs();
                }
            }
        }
    }
    let wape: Vec<f64> = abs_error.iter().map(|e| e / actual_total).collect();
    eprintln!(
        "seeded holdout WAPE naive {:.3} regression {:.3} prophet_like {:.3}",
        wape[0], wape[1], wape[2]
    );
    assert!(actual_total > 0.0);
    assert!(
        wape[1] < wape[0],
        "regression {} vs naive {}",
        wape[1],
        wape[0]
    );
    assert!(
        wape[2] < wape[0],
        "prophet_like {} vs naive {}",
        wape[2],
        wape[0]
    );
}

async fn validation_errors_are_422_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let naive = train_body(json!({"model_type": "naive"}));
    let request_cases = [
        (json!({"store_id": 0}), "store_id"),
        (json!({"product_id": -1}), "product_id"),
        (json!({"train_end_date": "2024-01-01"}), "train_end_date"),
        (
            json!({"train_start_date": "not-a-date"}),
            "train_start_date",
        ),
        (json!({"feature_frame_version": 3}), "feature_frame_version"),
        (json!({"feature_groups": ["calendar"]}), "feature_groups"),
        (
            json!({"feature_frame_version": 2, "feature_groups": ["calendar", "astrology"]}),
            "feature_groups.1",
        ),
        (json!({"surprise": true}), "surprise"),
    ];
    let config_cases = [
        (json!({"season_length": 7}), "config.model_type"),
        (
            json!({"model_type": "moving_average", "window": 7}),
            "config.window",
        ),
        (
            json!({"model_type": "moving_average", "window_size": 0}),
            "config.window_size",
        ),
        (
            json!({"model_type": "moving_average", "window_size": 91}),
            "config.window_size",
        ),
        (
            json!({"model_type": "seasonal_naive", "season_length": 366}),
            "config.season_length",
        ),
        (
            json!({"model_type": "weighted_moving_average", "decay": 1.0}),
            "config.decay",
        ),
        (
            json!({"model_type": "seasonal_average", "lookback_cycles": 13}),
            "config.lookback_cycles",
        ),
        (
            json!({"model_type": "trend_regression_baseline", "alpha": 1001.0}),
            "config.alpha",
        ),
        (
            json!({"model_type": "regression", "max_iter": 5}),
            "config.max_iter",
        ),
        (
            json!({"model_type": "regression", "learning_rate": 2.0}),
            "config.learning_rate",
        ),
        (
            json!({"model_type": "regression", "max_depth": 21}),
            "config.max_depth",
        ),
        (
            json!({"model_type": "prophet_like", "alpha": -1.0}),
            "config.alpha",
        ),
        (
            json!({"model_type": "naive", "schema_version": "2.0"}),
            "config.schema_version",
        ),
    ];
    let train_cases = request_cases
        .into_iter()
        .map(|(patch, field)| (merged(&naive, &patch), field))
        .chain(
            config_cases
                .into_iter()
                .map(|(config, field)| (train_body(config), field)),
        );
    for (body, field) in train_cases {
        app.post("/forecasting/train", &body)
            .await
            .assert_invalid(field);
    }
    let base = json!({"store_id": 1, "product_id": 1, "horizon": 7, "model_path": "0123456789ab"});
    for (patch, field) in [
        (json!({"horizon": 0}), "horizon"),
        (json!({"horizon": 91}), "horizon"),
        (json!({"interval_level": 1.0}), "interval_level"),
        (json!({"interval_level": 0.0}), "interval_level"),
        (json!({"strategy": "sideways"}), "strategy"),
        (json!({"store_id": 0}), "store_id"),
        (json!({"extra": 1}), "extra"),
    ] {
        app.post("/forecasting/predict", &merged(&base, &patch))
            .await
            .assert_invalid(field);
    }
    assert_eq!(artifact_files(&app), 0, "rejected requests write nothing");
}

async fn model_registry_errors_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let response = app
        .post(
            "/forecasting/train",
            &train_body(json!({"model_type": "arima"})),
        )
        .await;
    let body = response.assert_problem(400, "BAD_REQUEST");
    let detail = body["detail"].as_str().unwrap();
    for known in [
        "naive",
        "seasonal_naive",
        "moving_average",
        "weighted_moving_average",
        "seasonal_average",
        "trend_regression_baseline",
        "regression",
        "prophet_like",
    ] {
        assert!(detail.contains(known), "{detail}");
    }
    #[cfg(not(feature = "lightgbm"))]
    app.post(
        "/forecasting/train",
        &train_body(json!({"model_type": "lightgbm"})),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "Cargo feature 'lightgbm'");
    assert_eq!(artifact_files(&app), 0);
}

async fn data_errors_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // No rows in the window.
    let body = merged(
        &train_body(json!({"model_type": "naive"})),
        &json!({"train_start_date": "2025-01-01", "train_end_date": "2025-02-01"}),
    );
    app.post("/forecasting/train", &body)
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "No training data");
    // Product 2 has 10 rows: too short for a 14-row seasonal average and for
    // feature-aware models (30 rows).
    for config in [
        json!({"model_type": "seasonal_average"}),
        json!({"model_type": "regression"}),
    ] {
        let body = merged(&train_body(config), &json!({"product_id": 2}));
        app.post("/forecasting/train", &body)
            .await
            .assert_problem_mentions(400, "BAD_REQUEST", "at least");
    }
    assert_eq!(artifact_files(&app), 0);
}

async fn artifact_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let trained = train(&app, json!({"model_type": "seasonal_naive"})).await;
    let path = trained["model_path"].as_str().unwrap().to_owned();
    let key = trained["artifact_key"].as_str().unwrap().to_owned();
    let post = |model_path: &str, store: i64| json!({"store_id": store, "product_id": 1, "horizon": 3, "model_path": model_path});
    // Missing artifact (valid key, no file) → 404.
    app.post("/forecasting/predict", &post("abcdefabcdef", 1))
        .await
        .assert_problem(404, "NOT_FOUND");
    // Wrong suffix, traversal, outside the directory → 400.
    let dir = std::path::Path::new(&path).parent().unwrap().to_path_buf();
    for bad in [
        path.replace(".flmodel", ".joblib"),
        format!("{}/../model_{key}.flmodel", dir.display()),
        format!("/tmp/model_{key}.flmodel"),
        format!("{}/not_a_model.flmodel", dir.display()),
    ] {
        app.post("/forecasting/predict", &post(&bad, 1))
            .await
            .assert_problem(400, "BAD_REQUEST");
    }
    // Store mismatch → 400.
    app.post("/forecasting/predict", &post(&path, 9))
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "store");
    // Corrupt files → 400 naming the problem, never a 500.
    let original = std::fs::read(&path).unwrap();
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let mut wrong_version = original.clone();
    wrong_version[8] = 7;
    for (bytes, needle) in [
        (original[..original.len() / 3].to_vec(), "truncated"),
        (flipped, "checksum"),
        (wrong_version, "format version 7"),
        (b"not an artifact at all".to_vec(), "magic"),
    ] {
        std::fs::write(&path, &bytes).unwrap();
        app.post("/forecasting/predict", &post(&path, 1))
            .await
            .assert_problem_mentions(400, "BAD_REQUEST", needle);
    }
    // Restored file works again and gives the same forecast as by key.
    std::fs::write(&path, &original).unwrap();
    let by_path = predict(&app, &path, 3, json!({})).await;
    let by_key = predict(&app, &key, 3, json!({})).await;
    assert_eq!(points(&by_path), points(&by_key));
}

both_backends!(
    every_target_only_model_trains_and_predicts,
    intervals_cover_the_forecast_and_widen,
    feature_aware_models_beat_naive,
    feature_aware_models_beat_naive_on_seeded_data,
    validation_errors_are_422_naming_the_field,
    model_registry_errors_are_400,
    data_errors_are_400,
    artifact_problems,
);
