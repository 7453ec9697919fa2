//! Global models: a feature-aware model fitted once across many series, in
//! a backtest (`config.global_model`) and as one artifact
//! (`/forecasting/train-global`) that `/forecasting/predict` serves for each
//! series, on both databases.

use chrono::{Days, NaiveDate};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    Backend, TestApp, TestResponse,
};
use serde_json::{json, Value};

const DAYS: u64 = 160;

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("date") + Days::new(offset)
}

/// A weekly pattern times `level`, with a little deterministic noise.
fn quantities(level: i64, days: u64) -> Vec<i64> {
    const WEEK: [i64; 7] = [6, 7, 8, 8, 9, 12, 11];
    (0..days)
        .map(|i| level * WEEK[(i % 7) as usize] + ((i * 7 + level as u64) % 5) as i64 - 2)
        .collect()
}

/// Three stores × products (two categories), weekly series of different
/// levels; returns the (store, product) pairs.
async fn retail_fixture(app: &TestApp) -> Vec<(i64, i64)> {
    fixtures::calendar(app, day(0), day(DAYS + 30)).await;
    let mut pairs = Vec::new();
    for (code, category, level) in [("G1", "Dairy", 2), ("G2", "Dairy", 5), ("G3", "Bakery", 9)] {
        let store = fixtures::store(app, code).insert().await;
        let product = fixtures::product(app, &format!("SKU-{code}"))
            .category(category)
            .insert()
            .await;
        let rows: Vec<Sale> = quantities(level, DAYS)
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let total = format!("{:.2}", *q as f64 * 2.5);
                Sale::new(
                    &day(i as u64).to_string(),
                    store,
                    product,
                    *q,
                    "2.50",
                    &total,
                )
            })
            .collect();
        fixtures::sales(app, &rows).await;
        pairs.push((store, product));
    }
    pairs
}

fn global_request(model: Value) -> Value {
    json!({
        "series": "all",
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "config": {
            "split_config": {"n_splits": 3, "min_train_size": 60, "horizon": 14, "gap": 1},
            "model_config_main": model,
            "global_model": true
        }
    })
}

async fn run(app: &TestApp, body: &Value) -> TestResponse {
    app.post("/backtesting/run", body).await
}

fn all_predictions(body: &Value) -> Vec<Value> {
    body["series_results"]
        .as_array()
        .expect("series_results")
        .iter()
        .flat_map(|s| {
            s["main_model_results"]["fold_results"]
                .as_array()
                .expect("folds")
                .iter()
                .map(|f| f["predictions"].clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn global_backtest_fits_across_series_without_leakage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pairs = retail_fixture(&app).await;
    let body = global_request(json!({"model_type": "regression", "max_iter": 50}));
    let first = run(&app, &body).await.assert_ok().clone();
    assert_eq!(first["leakage_check_passed"], true);
    let per_series = first["series_results"].as_array().expect("series");
    assert_eq!(per_series.len(), 3);
    for (series, (store, product)) in per_series.iter().zip(&pairs) {
        assert_eq!(series["store_id"], *store);
        assert_eq!(series["product_id"], *product);
        let main = &series["main_model_results"];
        assert_eq!(main["model_type"], "regression");
        assert_eq!(main["feature_aware"], true);
        let folds = main["fold_results"].as_array().expect("folds");
        assert_eq!(folds.len(), 3);
        // Every series shares each fold's cutoff and test window.
        for (k, fold) in folds.iter().enumerate() {
            assert_eq!(
                fold["split"]["train_end"],
                per_series[0]["main_model_results"]["fold_results"][k]["split"]["train_end"]
            );
            assert_eq!(fold["predictions"].as_array().map(Vec::len), Some(14));
            assert!(fold["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_f64));
        }
    }
    // The weekly shape is shared across levels: the global fit must beat
    // naive by a wide margin over the pooled points.
    let pooled = &first["pooled"];
    assert_eq!(pooled["main_model"]["n_series"], 3);
    let vs_naive = pooled["comparison_summary"]["wape"]["vs_naive_pct"]
        .as_f64()
        .expect("vs naive");
    assert!(vs_naive > 40.0, "{}", pooled["comparison_summary"]);

    // Poison every target (of every series) from the last fold's first test
    // date on: no fold of any series trained on those rows, so every
    // prediction stays the same.
    let last_test_start = per_series[0]["main_model_results"]["fold_results"][2]["split"]
        ["test_start"]
        .as_str()
        .expect("date")
        .to_owned();
    app.exec(&format!(
        "UPDATE sales_daily SET quantity = quantity * 50 + 3 WHERE date >= '{last_test_start}'"
    ))
    .await;
    let second = run(&app, &body).await.assert_ok().clone();
    assert_eq!(all_predictions(&first), all_predictions(&second));
    assert_ne!(
        first["pooled"]["main_model"]["pooled_metrics"],
        second["pooled"]["main_model"]["pooled_metrics"]
    );
}

async fn global_backtest_requests_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pairs = retail_fixture(&app).await;
    // One series named the single-series way: 422 on the flag.
    let mut single = global_request(json!({"model_type": "regression"}));
    single.as_object_mut().expect("object").remove("series");
    single["store_id"] = json!(pairs[0].0);
    single["product_id"] = json!(pairs[0].1);
    run(&app, &single)
        .await
        .assert_invalid("config.global_model");
    // A target-only model cannot be fitted globally: 422 on the flag.
    run(&app, &global_request(json!({"model_type": "naive"})))
        .await
        .assert_invalid("config.global_model");
    // Not a boolean: 422.
    let mut wrong = global_request(json!({"model_type": "regression"}));
    wrong["config"]["global_model"] = json!("yes");
    run(&app, &wrong).await.assert_status(422);
    // No data in the window: 400.
    let mut empty = global_request(json!({"model_type": "regression"}));
    empty["start_date"] = json!("2030-01-01");
    empty["end_date"] = json!("2030-12-31");
    run(&app, &empty).await.assert_problem(400, "BAD_REQUEST");
    // Unknown series only: 400, nothing to fit.
    let mut unknown = global_request(json!({"model_type": "regression"}));
    unknown["series"] = json!([{"store_id": 999, "product_id": 999}]);
    run(&app, &unknown).await.assert_problem(400, "BAD_REQUEST");
}

fn train_body(model: Value) -> Value {
    json!({
        "series": "all",
        "train_start_date": "2024-01-01",
        "train_end_date": day(DAYS - 1).to_string(),
        "config": model,
    })
}

async fn one_global_artifact_forecasts_every_series(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pairs = retail_fixture(&app).await;
    let trained = app
        .post(
            "/forecasting/train-global",
            &train_body(json!({"model_type": "regression", "max_iter": 50})),
        )
        .await;
    let trained = trained.assert_ok().clone();
    assert_eq!(trained["model_type"], "regression");
    assert_eq!(trained["series"].as_array().map(Vec::len), Some(3));
    assert_eq!(trained["skipped_series"], json!([]));
    assert_eq!(trained["n_observations"], 3 * DAYS);
    assert_eq!(trained["config"]["max_iter"], 50);
    let key = trained["artifact_key"].as_str().expect("key").to_owned();

    let mut means = Vec::new();
    for (store, product) in &pairs {
        let response = app
            .post(
                "/forecasting/predict",
                &json!({
                    "store_id": store, "product_id": product, "horizon": 14,
                    "model_path": key, "interval_level": 0.8
                }),
            )
            .await;
        let body = response.assert_ok();
        assert_eq!(body["strategy"], "recursive");
        assert_eq!(body["interval_method"], "split_conformal_holdout_sqrt_h");
        let points = body["forecasts"].as_array().expect("forecasts");
        assert_eq!(points.len(), 14);
        assert_eq!(points[0]["date"], day(DAYS).to_string());
        let mut sum = 0.0;
        for point in points {
            let (f, lo, hi) = (
                point["forecast"].as_f64().expect("forecast"),
                point["lower_bound"].as_f64().expect("lower"),
                point["upper_bound"].as_f64().expect("upper"),
            );
            assert!(lo < f && f < hi, "{point}");
            sum += f;
        }
        means.push(sum / 14.0);
    }
    // Per-series levels come back from the one artifact: 2 : 5 : 9.
    let expected: Vec<f64> = [2.0, 5.0, 9.0].iter().map(|l| l * 61.0 / 7.0).collect();
    for (got, want) in means.iter().zip(&expected) {
        assert!(
            (got - want).abs() / want < 0.15,
            "{means:?} vs {expected:?}"
        );
    }

    // A series the artifact was not fitted on: 400.
    let stranger = json!({
        "store_id": pairs[0].0, "product_id": pairs[1].1, "horizon": 7, "model_path": key
    });
    app.post("/forecasting/predict", &stranger)
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "not one of them");
    // Direct strategy is not offered for global models: 422.
    let direct = json!({
        "store_id": pairs[0].0, "product_id": pairs[0].1, "horizon": 7,
        "model_path": key, "strategy": "direct"
    });
    app.post("/forecasting/predict", &direct)
        .await
        .assert_invalid("strategy");
    // A missing artifact: 404.
    let missing = json!({
        "store_id": pairs[0].0, "product_id": pairs[0].1, "horizon": 7,
        "model_path": "0123456789ab"
    });
    app.post("/forecasting/predict", &missing)
        .await
        .assert_problem(404, "NOT_FOUND");
}

async fn global_training_requests_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pairs = retail_fixture(&app).await;
    let regression = json!({"model_type": "regression"});
    let cases = [
        (json!({"series": []}), "series"),
        (
            json!({"series": [{"store_id": 0, "product_id": 1}]}),
            "series.0.store_id",
        ),
        (json!({"train_end_date": "2023-12-01"}), "train_end_date"),
        (
            json!({"config": {"model_type": "naive"}}),
            "config.model_type",
        ),
        (json!({"config": {}}), "config.model_type"),
        (
            json!({"config": {"model_type": "regression", "max_iter": 5}}),
            "config.max_iter",
        ),
    ];
    for (patch, field) in cases {
        let mut body = train_body(regression.clone());
        for (k, v) in patch.as_object().expect("object") {
            body[k] = v.clone();
        }
        app.post("/forecasting/train-global", &body)
            .await
            .assert_invalid(field);
    }
    let mut extra = train_body(regression.clone());
    extra["turbo"] = json!(true);
    app.post("/forecasting/train-global", &extra)
        .await
        .assert_status(422);
    // Unknown model type: 400.
    app.post(
        "/forecasting/train-global",
        &train_body(json!({"model_type": "no_such_model"})),
    )
    .await
    .assert_problem(400, "BAD_REQUEST");
    // Only series without data: 400.
    let mut unknown = train_body(regression.clone());
    unknown["series"] = json!([{"store_id": 999, "product_id": 999}]);
    app.post("/forecasting/train-global", &unknown)
        .await
        .assert_problem(400, "BAD_REQUEST");
    // A listed series without data is reported, the others are fitted.
    let mut listed = train_body(json!({"model_type": "regression", "max_iter": 10}));
    listed["series"] = json!([
        {"store_id": pairs[0].0, "product_id": pairs[0].1},
        {"store_id": 999, "product_id": 999}
    ]);
    let body = app.post("/forecasting/train-global", &listed).await;
    let body = body.assert_ok();
    assert_eq!(body["series"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["skipped_series"][0]["store_id"], 999);
}

both_backends!(
    global_backtest_fits_across_series_without_leakage,
    global_backtest_requests_are_checked,
    one_global_artifact_forecasts_every_series,
    global_training_requests_are_checked,
);
