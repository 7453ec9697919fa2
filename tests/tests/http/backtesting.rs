//! POST /backtesting/run: folds, metrics, horizon buckets, baselines,
//! validation, runtime limits, many-series requests and the service entry
//! point used by background jobs.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use chrono::{Days, NaiveDate};
use forecastlab_server::{
    config::Settings,
    features::backtesting::{schemas::BacktestRequest, service},
    AppState,
};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    json::{merged, with, without},
    Backend, TestApp, TestResponse,
};
use serde_json::{json, Value};

const WEEK: [i64; 7] = [10, 20, 30, 40, 50, 60, 70];

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("date") + Days::new(offset)
}

/// Inserts store `code` and product `SKU-<code>`; returns (store_id, product_id).
async fn series_owner(app: &TestApp, code: &str) -> (i64, i64) {
    let store = fixtures::store(app, code).insert().await;
    let product = fixtures::product(app, &format!("SKU-{code}"))
        .name(&format!("Product {code}"))
        .insert()
        .await;
    (store, product)
}

/// Inserts the calendar for `days` days from 2024-01-01.
async fn calendar(app: &TestApp, days: u64) {
    fixtures::calendar(app, day(0), day(days - 1)).await;
}

/// Inserts one sales row per day from 2024-01-01 with the given quantities.
async fn sales(app: &TestApp, store: i64, product: i64, quantities: &[i64]) {
    let rows: Vec<Sale> = quantities
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
}

fn weekly(n: usize) -> Vec<i64> {
    (0..n).map(|i| WEEK[i % 7]).collect()
}

/// A store/product with a pure weekly pattern over 120 days.
async fn weekly_fixture(app: &TestApp) -> (i64, i64) {
    calendar(app, 200).await;
    let (store, product) = series_owner(app, "W1").await;
    sales(app, store, product, &weekly(120)).await;
    (store, product)
}

fn request(store: i64, product: i64, model: Value) -> Value {
    json!({
        "store_id": store,
        "product_id": product,
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "config": {"model_config_main": model}
    })
}

async fn run(app: &TestApp, body: &Value) -> TestResponse {
    app.post("/backtesting/run", body).await
}

fn is_hex16(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 16 && s.chars().all(|c| c.is_ascii_hexdigit()))
}

async fn seasonal_naive_beats_naive_on_a_weekly_pattern(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let response = run(
        &app,
        &request(
            store,
            product,
            json!({"model_type": "seasonal_naive", "season_length": 7}),
        ),
    )
    .await;
    let body = response.assert_ok();
    assert!(is_hex16(&body["backtest_id"]), "{body}");
    assert!(is_hex16(&body["config_hash"]));
    assert_eq!(body["store_id"], store);
    assert_eq!(body["product_id"], product);
    assert_eq!(body["leakage_check_passed"], true);
    assert_eq!(
        body["split_config"],
        json!({"strategy": "expanding", "n_splits": 5, "min_train_size": 30, "gap": 0, "horizon": 14})
    );
    let main = &body["main_model_results"];
    assert_eq!(main["model_type"], "seasonal_naive");
    assert!(is_hex16(&main["config_hash"]));
    assert_eq!(main["feature_aware"], false);
    assert!(main["exogenous_policy"].is_null());
    assert_eq!(main["aggregated_metrics"]["mae"], 0.0);
    assert_eq!(main["aggregated_metrics"]["rmse"], 0.0);
    assert_eq!(main["aggregated_metrics"]["wape"], 0.0);
    let folds = main["fold_results"].as_array().expect("folds");
    assert_eq!(folds.len(), 5);
    // n = 120, expanding, k = 5, min 30, h 14: step 19, tests start at rows
    // 30, 49, 68, 87, 106.
    let test_starts: Vec<String> = folds
        .iter()
        .map(|f| f["split"]["test_start"].as_str().unwrap_or("").to_owned())
        .collect();
    let expected: Vec<String> = [30, 49, 68, 87, 106]
        .iter()
        .map(|i| day(*i).to_string())
        .collect();
    assert_eq!(test_starts, expected);
    assert_eq!(folds[1]["split"]["train_start"], day(0).to_string());
    assert_eq!(folds[1]["split"]["train_end"], day(48).to_string());
    assert_eq!(folds[1]["split"]["train_size"], 49);
    assert_eq!(folds[1]["split"]["test_size"], 14);
    assert_eq!(folds[0]["dates"].as_array().map(Vec::len), Some(14));
    assert_eq!(folds[0]["actuals"], folds[0]["predictions"]);
    let buckets: Vec<&String> = folds[0]["horizon_bucket_metrics"]
        .as_object()
        .expect("buckets")
        .keys()
        .collect();
    assert_eq!(buckets, ["h_1_7", "h_8_14"]);
    let metric_keys: Vec<&String> = main["aggregated_metrics"]
        .as_object()
        .expect("metrics")
        .keys()
        .collect();
    assert_eq!(
        metric_keys,
        ["mae", "rmse", "smape", "wape", "bias", "mase", "rmsse"]
    );
    // A pure weekly pattern has no seasonal naive scale: MASE and RMSSE
    // are null rather than 0/0.
    assert!(main["aggregated_metrics"]["mase"].is_null());
    assert!(main["aggregated_metrics"]["rmsse"].is_null());
    let bucketed = main["bucketed_aggregated_metrics"]
        .as_object()
        .expect("bucketed");
    assert_eq!(bucketed.keys().collect::<Vec<_>>(), ["h_1_7", "h_8_14"]);
    assert!(main["metric_std"].get("mae_stability").is_some());

    let baselines = body["baseline_results"].as_array().expect("baselines");
    let names: Vec<&str> = baselines
        .iter()
        .filter_map(|b| b["model_type"].as_str())
        .collect();
    assert_eq!(names, ["naive", "seasonal_naive"]);
    let naive = &baselines[0];
    let naive_mae = naive["aggregated_metrics"]["mae"].as_f64().expect("mae");
    assert!(naive_mae > 10.0, "naive MAE {naive_mae}");
    // Same folds for every model.
    for baseline in baselines {
        let bounds: Vec<&Value> = baseline["fold_results"]
            .as_array()
            .expect("folds")
            .iter()
            .map(|f| &f["split"])
            .collect();
        let main_bounds: Vec<&Value> = folds.iter().map(|f| &f["split"]).collect();
        assert_eq!(bounds, main_bounds);
    }
    let summary = &body["comparison_summary"];
    assert_eq!(summary["mae"]["main"], 0.0);
    assert_eq!(summary["mae"]["naive"].as_f64(), Some(naive_mae));
    assert_eq!(summary["mae"]["vs_naive_pct"], 100.0);
    assert_eq!(summary["rmse"]["vs_naive_pct"], 100.0);
    // Seasonal baseline equals the main model: its MAE is 0, no percentage.
    assert_eq!(summary["mae"]["seasonal_naive"], 0.0);
    assert!(summary["mae"].get("vs_seasonal_pct").is_none());

    // The other way round: naive as the main model loses to the seasonal
    // baseline (which is perfect, so no percentage) and equals naive.
    let response = run(
        &app,
        &request(store, product, json!({"model_type": "naive"})),
    )
    .await;
    let body = response.assert_ok();
    let summary = &body["comparison_summary"];
    assert_eq!(summary["mae"]["main"].as_f64(), Some(naive_mae));
    assert_eq!(summary["mae"]["vs_naive_pct"], 0.0);
    assert_eq!(summary["mae"]["seasonal_naive"], 0.0);
}

async fn metrics_match_a_hand_computed_fold(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    calendar(&app, 60).await;
    let (store, product) = series_owner(&app, "H1").await;
    // 30 rows: train 1..=20 constant 5, then test values. min 20, h 5, 2 splits
    // → n = 30: k = min(2, (30-20)/5 = 2) → step (30-20-5)/1 = 5: tests
    // [20, 25) and [25, 30).
    let mut quantities = vec![5; 20];
    quantities.extend([10, 0, 5, 8, 2, 0, 0, 0, 0, 0]);
    sales(&app, store, product, &quantities).await;
    let mut body = request(store, product, json!({"model_type": "naive"}));
    body["config"]["split_config"] = json!({"n_splits": 2, "min_train_size": 20, "horizon": 5});
    body["config"]["include_baselines"] = json!(false);
    let response = run(&app, &body).await;
    let body = response.assert_ok();
    assert!(body["baseline_results"].is_null());
    assert!(body["comparison_summary"].is_null());
    let folds = body["main_model_results"]["fold_results"]
        .as_array()
        .expect("folds");
    assert_eq!(folds.len(), 2);
    // Fold 0: forecast 5 for A = [10, 0, 5, 8, 2]; errors 5, -5, 0, 3, -3.
    let m = &folds[0]["metrics"];
    assert_eq!(m["mae"], 16.0 / 5.0);
    assert!((m["rmse"].as_f64().unwrap() - (68.0f64 / 5.0).sqrt()).abs() < 1e-12);
    let smape = 100.0 / 5.0 * (10.0 / 15.0 + 2.0 + 0.0 + 6.0 / 13.0 + 6.0 / 7.0);
    assert!((m["smape"].as_f64().unwrap() - smape).abs() < 1e-9);
    assert!((m["wape"].as_f64().unwrap() - 1600.0 / 25.0).abs() < 1e-9);
    assert_eq!(m["bias"], 0.0);
    // A flat training window has no seasonal naive scale.
    assert!(m["mase"].is_null() && m["rmsse"].is_null(), "{m}");
    // Fold 1: last train value 2, all actuals 0 → WAPE is +inf → null.
    let m = &folds[1]["metrics"];
    assert_eq!(m["mae"], 2.0);
    assert_eq!(m["smape"], 200.0);
    assert!(m["wape"].is_null(), "{m}");
    assert_eq!(m["bias"], -2.0);
    // Its training window (5 × 20, then 10, 0, 5, 8, 2) has lag-7
    // differences 0 (13×), 5, −5, 0, 3, −3: s₁ = 16/18, s₂ = 68/18.
    assert!((m["mase"].as_f64().unwrap() - 2.0 / (16.0 / 18.0)).abs() < 1e-12);
    assert!((m["rmsse"].as_f64().unwrap() - (4.0f64 / (68.0 / 18.0)).sqrt()).abs() < 1e-12);
    let agg = &body["main_model_results"]["aggregated_metrics"];
    // The mean over folds skips the fold without a scale.
    assert_eq!(agg["mase"], m["mase"]);
    assert_eq!(agg["mae"], (3.2 + 2.0) / 2.0);
    // Infinite fold WAPE propagates into the mean → null.
    assert!(agg["wape"].is_null());
    assert!(body["main_model_results"]["metric_std"]["wape_stability"].is_null());
}

async fn fold_details_can_be_left_out_and_gap_is_respected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let mut body = request(
        store,
        product,
        json!({"model_type": "seasonal_naive", "season_length": 7}),
    );
    body["config"]["split_config"] = json!({"n_splits": 3, "gap": 3, "strategy": "sliding"});
    body["config"]["store_fold_details"] = json!(false);
    let response = run(&app, &body).await;
    let body = response.assert_ok();
    let folds = body["main_model_results"]["fold_results"]
        .as_array()
        .expect("folds");
    // n = 120, k = 3, gap 3, h 14: step (120-30-3-14)/2 = 36; sliding
    // trains [0,30), [36,66), [72,102); tests start 33, 69, 105.
    let bounds: Vec<(String, String, i64)> = folds
        .iter()
        .map(|f| {
            (
                f["split"]["train_start"].as_str().unwrap_or("").to_owned(),
                f["split"]["test_start"].as_str().unwrap_or("").to_owned(),
                f["split"]["train_size"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        bounds,
        vec![
            (day(0).to_string(), day(33).to_string(), 30),
            (day(36).to_string(), day(69).to_string(), 30),
            (day(72).to_string(), day(105).to_string(), 30),
        ]
    );
    for fold in folds {
        assert_eq!(fold["dates"], json!([]));
        assert_eq!(fold["actuals"], json!([]));
        assert_eq!(fold["predictions"], json!([]));
        // A gap of 3 days does not break the weekly alignment.
        assert_eq!(fold["metrics"]["mae"], 0.0);
        assert!(fold["horizon_bucket_metrics"]["h_1_7"].is_object());
    }
}

async fn validation_errors_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let base = request(store, product, json!({"model_type": "naive"}));
    let split = |config: Value| with(&base, |b| b["config"]["split_config"] = config);
    let model = |config: Value| with(&base, |b| b["config"]["model_config_main"] = config);
    let series = |list: Value| {
        merged(
            &without(&base, &["store_id", "product_id"]),
            &json!({ "series": list }),
        )
    };
    let cases = [
        (merged(&base, &json!({"extra": 1})), "extra"),
        (
            with(&base, |b| b["config"]["bogus"] = json!(true)),
            "config.bogus",
        ),
        (split(json!({"folds": 3})), "config.split_config.folds"),
        (
            split(json!({"n_splits": 1})),
            "config.split_config.n_splits",
        ),
        (
            split(json!({"n_splits": 21})),
            "config.split_config.n_splits",
        ),
        (
            split(json!({"n_splits": "5"})),
            "config.split_config.n_splits",
        ),
        (
            split(json!({"min_train_size": 6})),
            "config.split_config.min_train_size",
        ),
        (
            split(json!({"gap": 31, "horizon": 40})),
            "config.split_config.gap",
        ),
        (split(json!({"horizon": 0})), "config.split_config.horizon"),
        (split(json!({"horizon": 91})), "config.split_config.horizon"),
        (
            split(json!({"gap": 7, "horizon": 7})),
            "config.split_config.horizon",
        ),
        (
            split(json!({"strategy": "rolling"})),
            "config.split_config.strategy",
        ),
        (
            merged(&base, &json!({"end_date": "2024-01-01"})),
            "end_date",
        ),
        (
            merged(&base, &json!({"start_date": "01/01/2024"})),
            "start_date",
        ),
        (merged(&base, &json!({"store_id": 0})), "store_id"),
        (without(&base, &["product_id"]), "product_id"),
        (
            model(json!({"season_length": 7})),
            "config.model_config_main.model_type",
        ),
        (
            model(json!({"model_type": "naive", "window": 3})),
            "config.model_config_main.window",
        ),
        (merged(&base, &json!({"series": "all"})), "store_id"),
        (series(json!("some")), "series"),
        (series(json!([])), "series"),
        (
            series(json!([{"store_id": 1, "product_id": 0}])),
            "series.0.product_id",
        ),
    ];
    for (body, field) in cases {
        run(&app, &body).await.assert_invalid(field);
    }
}

async fn invalid_model_config_values_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let response = run(
        &app,
        &request(
            store,
            product,
            json!({"model_type": "seasonal_naive", "season_length": 0}),
        ),
    )
    .await;
    response.assert_problem(422, "VALIDATION_ERROR");
    assert!(response
        .error_fields()
        .iter()
        .any(|f| f.starts_with("config.model_config_main")));
}

async fn runtime_errors_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let base = request(store, product, json!({"model_type": "naive"}));

    // Unknown model.
    let unknown = request(store, product, json!({"model_type": "crystal_ball"}));
    run(&app, &unknown)
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "crystal_ball");

    // Too little data: 120 rows < 100 + 0 + 30.
    let body = with(&base, |b| {
        b["config"]["split_config"] = json!({"min_train_size": 100, "horizon": 30})
    });
    let response = run(&app, &body).await;
    let problem = response.assert_problem(400, "BAD_REQUEST");
    let detail = problem["detail"].as_str().unwrap_or("");
    assert!(detail.contains("Need at least 130"), "{detail}");
    assert!(detail.contains("min_train_size 100"), "{detail}");

    // No data in the window.
    let body = with(&base, |b| {
        b["start_date"] = json!("2025-01-01");
        b["end_date"] = json!("2025-06-30");
    });
    run(&app, &body)
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "No data");

    // Unknown series.
    let unknown = request(store + 100, product, json!({"model_type": "naive"}));
    run(&app, &unknown).await.assert_problem(400, "BAD_REQUEST");
}

async fn settings_limits_are_400(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("BACKTEST_MAX_SPLITS", "3"), ("BACKTEST_MAX_GAP", "2")],
    )
    .await;
    let (store, product) = weekly_fixture(&app).await;
    let base = request(store, product, json!({"model_type": "naive"}));
    let split = |config: Value| with(&base, |b| b["config"]["split_config"] = config);
    run(&app, &split(json!({"n_splits": 5})))
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "BACKTEST_MAX_SPLITS");
    run(&app, &split(json!({"n_splits": 3, "gap": 5})))
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "BACKTEST_MAX_GAP");
    run(&app, &split(json!({"n_splits": 3, "gap": 2})))
        .await
        .assert_ok();
}

async fn many_series_report_per_series_and_pooled_metrics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    calendar(&app, 200).await;
    let (s1, p1) = series_owner(&app, "M1").await;
    let (s2, p2) = series_owner(&app, "M2").await;
    let (s3, p3) = series_owner(&app, "M3").await;
    sales(&app, s1, p1, &weekly(120)).await;
    // Same pattern, doubled, over 100 days.
    let doubled: Vec<i64> = weekly(100).iter().map(|q| q * 2).collect();
    sales(&app, s2, p2, &doubled).await;
    // Too short for the folds.
    sales(&app, s3, p3, &weekly(20)).await;
    let body = json!({
        "series": [
            {"store_id": s1, "product_id": p1},
            {"store_id": s2, "product_id": p2},
            {"store_id": s3, "product_id": p3},
            {"store_id": s1, "product_id": p1},
            {"store_id": 999, "product_id": 999}
        ],
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "config": {"model_config_main": {"model_type": "naive"}}
    });
    let response = run(&app, &body).await;
    let body = response.assert_ok();
    assert!(body["store_id"].is_null());
    assert!(body["main_model_results"].is_null());
    assert_eq!(body["leakage_check_passed"], true);
    let per_series = body["series_results"].as_array().expect("series_results");
    assert_eq!(per_series.len(), 2);
    assert_eq!(per_series[0]["store_id"], s1);
    assert_eq!(per_series[0]["n_observations"], 120);
    assert_eq!(per_series[1]["store_id"], s2);
    assert_eq!(per_series[1]["n_observations"], 100);
    let skipped = body["skipped_series"].as_array().expect("skipped");
    let skipped_ids: Vec<i64> = skipped
        .iter()
        .filter_map(|s| s["store_id"].as_i64())
        .collect();
    assert_eq!(skipped_ids, vec![s3, 999]);
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap_or("")
        .contains("Need at least 44"));
    assert_eq!(skipped[1]["n_observations"], 0);

    let pooled = &body["pooled"];
    assert_eq!(pooled["n_series"], 2);
    let main = &pooled["main_model"];
    assert_eq!(main["model_type"], "naive");
    assert_eq!(main["n_series"], 2);
    // 120 rows: 5 folds; 100 rows: 5 folds (n ≥ 30 + 5·14) → 10 · 14 points.
    assert_eq!(main["n_points"], 140);
    // Pooled MAE = (Σ abs errors) / 140, from the per-fold results.
    let mut abs_error = 0.0;
    let mut abs_actual = 0.0;
    let mut series_mae = Vec::new();
    for series in per_series {
        let result = &series["main_model_results"];
        series_mae.push(result["aggregated_metrics"]["mae"].as_f64().unwrap());
        for fold in result["fold_results"].as_array().unwrap() {
            let actuals = fold["actuals"].as_array().unwrap();
            let predictions = fold["predictions"].as_array().unwrap();
            for (a, f) in actuals.iter().zip(predictions) {
                let (a, f) = (a.as_f64().unwrap(), f.as_f64().unwrap());
                abs_error += (a - f).abs();
                abs_actual += a.abs();
            }
        }
    }
    let pooled_mae = main["pooled_metrics"]["mae"].as_f64().unwrap();
    assert!((pooled_mae - abs_error / 140.0).abs() < 1e-9);
    let pooled_wape = main["pooled_metrics"]["wape"].as_f64().unwrap();
    assert!((pooled_wape - 100.0 * abs_error / abs_actual).abs() < 1e-9);
    let mean_mae = main["mean_series_metrics"]["mae"].as_f64().unwrap();
    assert!((mean_mae - (series_mae[0] + series_mae[1]) / 2.0).abs() < 1e-9);
    assert!(main["bucketed_pooled_metrics"]["h_8_14"].is_object());
    let wrmsse = main["wrmsse"].as_f64().expect("wrmsse");
    assert!((wrmsse - expected_wrmsse(per_series, &[1, 2])).abs() < 1e-9);
    let baselines = pooled["baselines"].as_array().expect("pooled baselines");
    assert_eq!(baselines.len(), 2);
    assert_eq!(baselines[1]["model_type"], "seasonal_naive");
    assert_eq!(baselines[1]["pooled_metrics"]["mae"], 0.0);
    assert_eq!(baselines[1]["wrmsse"], 0.0);
    assert_eq!(baselines[0]["wrmsse"].as_f64(), Some(wrmsse));
    assert_eq!(pooled["comparison_summary"]["mae"]["vs_naive_pct"], 0.0);
    // Pure weekly patterns have no seasonal naive scale.
    assert!(main["pooled_metrics"]["mase"].is_null());
    assert!(pooled["comparison_summary"]["mase"].is_object());

    // "all" picks every series with rows, the same two evaluated.
    let body = json!({
        "series": "all",
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "config": {
            "model_config_main": {"model_type": "seasonal_naive", "season_length": 7},
            "store_fold_details": false
        }
    });
    let response = run(&app, &body).await;
    let body = response.assert_ok();
    assert_eq!(body["series_results"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["skipped_series"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["pooled"]["main_model"]["pooled_metrics"]["mae"], 0.0);
    assert!(
        body["pooled"]["comparison_summary"]["mae"]["vs_naive_pct"]
            .as_f64()
            .unwrap_or(0.0)
            > 99.0
    );

    // Every listed series too short → 400.
    let body = json!({
        "series": [{"store_id": s3, "product_id": p3}],
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "config": {"model_config_main": {"model_type": "naive"}}
    });
    let response = run(&app, &body).await;
    response.assert_problem(400, "BAD_REQUEST");
}

/// The M5 WRMSSE of the naive main model, recomputed from the folds: the
/// series are `weekly` patterns times `multipliers` sold at 2.50.
fn expected_wrmsse(per_series: &[Value], multipliers: &[i64]) -> f64 {
    let mut per_fold: Vec<(f64, f64)> = vec![(0.0, 0.0); 5];
    for (series, m) in per_series.iter().zip(multipliers) {
        let history: Vec<f64> = weekly(200).iter().map(|q| (q * m) as f64).collect();
        let folds = series["main_model_results"]["fold_results"]
            .as_array()
            .expect("folds");
        for (k, fold) in folds.iter().enumerate() {
            let n = fold["split"]["train_size"].as_u64().unwrap() as usize;
            let train = &history[..n];
            let scale =
                train.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (n - 1) as f64;
            let errors: Vec<f64> = fold["actuals"]
                .as_array()
                .unwrap()
                .iter()
                .zip(fold["predictions"].as_array().unwrap())
                .map(|(a, f)| a.as_f64().unwrap() - f.as_f64().unwrap())
                .collect();
            let mse = errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64;
            let weight = 2.5 * train[n - 28..].iter().sum::<f64>();
            per_fold[k].0 += weight * (mse / scale).sqrt();
            per_fold[k].1 += weight;
        }
    }
    per_fold.iter().map(|(w, t)| w / t).sum::<f64>() / per_fold.len() as f64
}

async fn service_runs_without_http_with_progress_and_cancellation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let artifacts = app.dir.path().join("artifacts");
    let settings = Settings::from_lookup(|name| match name {
        "FORECAST_MODEL_ARTIFACTS_DIR" => Some(artifacts.join("models").display().to_string()),
        "REGISTRY_ARTIFACT_ROOT" => Some(artifacts.join("registry").display().to_string()),
        _ => None,
    })
    .expect("default settings");
    let state = AppState::new(app.db.clone(), settings).expect("artifact store");
    let parse = |value: Value| -> BacktestRequest {
        serde_json::from_value(value).expect("request parses")
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let last_total = Arc::new(AtomicUsize::new(0));
    let hook: service::ProgressHook = {
        let calls = calls.clone();
        let last_total = last_total.clone();
        Arc::new(move |_done, total| {
            calls.fetch_add(1, Ordering::SeqCst);
            last_total.store(total, Ordering::SeqCst);
            true
        })
    };
    let result = service::run_with_progress(
        &state,
        parse(request(store, product, json!({"model_type": "naive"}))),
        Some(hook),
    )
    .await
    .expect("backtest runs");
    assert_eq!(
        result
            .main_model_results
            .as_ref()
            .map(|m| m.fold_results.len()),
        Some(5)
    );
    // 3 models × 5 folds.
    assert_eq!(calls.load(Ordering::SeqCst), 15);
    assert_eq!(last_total.load(Ordering::SeqCst), 15);

    let cancel: service::ProgressHook = Arc::new(|done, _| done < 2);
    let error = service::run_with_progress(
        &state,
        parse(request(store, product, json!({"model_type": "naive"}))),
        Some(cancel),
    )
    .await
    .expect_err("cancelled");
    assert_eq!(error.status.as_u16(), 409);

    // The service validates on its own (jobs do not pass the extractor).
    let mut invalid = request(store, product, json!({"model_type": "naive"}));
    invalid["config"]["split_config"] = json!({"gap": 20, "horizon": 10});
    let error = service::run(&state, parse(invalid))
        .await
        .expect_err("invalid");
    assert_eq!(error.status.as_u16(), 422);
}

fn fold_predictions(body: &Value) -> Vec<Value> {
    body["main_model_results"]["fold_results"]
        .as_array()
        .map(|folds| folds.iter().map(|f| f["predictions"].clone()).collect())
        .unwrap_or_default()
}

async fn feature_aware_folds_never_see_test_targets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let mut body = request(store, product, json!({"model_type": "prophet_like"}));
    body["config"]["split_config"] = json!({"n_splits": 3, "gap": 2, "horizon": 14});
    let response = run(&app, &body).await;
    let first = response.assert_ok().clone();
    let main = &first["main_model_results"];
    assert_eq!(main["model_type"], "prophet_like");
    assert_eq!(main["feature_aware"], true);
    assert_eq!(main["exogenous_policy"], "observed");
    assert_eq!(first["leakage_check_passed"], true);
    let folds = main["fold_results"].as_array().expect("folds").clone();
    assert_eq!(folds.len(), 3);
    for fold in &folds {
        let predictions = fold["predictions"].as_array().expect("predictions");
        assert_eq!(predictions.len(), 14);
        assert!(predictions.iter().all(Value::is_f64), "{fold}");
    }
    // The weekly pattern is learnable from lags and weekday columns: the
    // feature-aware model must beat naive by a wide margin.
    assert!(
        first["comparison_summary"]["mae"]["vs_naive_pct"]
            .as_f64()
            .unwrap_or(0.0)
            > 50.0,
        "{}",
        first["comparison_summary"]
    );

    // Poison every target from the first test date of the last fold on
    // (these rows are in no fold's training window): every fold's
    // predictions must stay exactly the same while the last fold's actuals
    // and metrics change.
    let last = &folds[2];
    let cutoff = last["split"]["test_start"]
        .as_str()
        .expect("date")
        .to_owned();
    app.exec(&format!(
        "UPDATE sales_daily SET quantity = quantity * 100 + 7 WHERE date >= '{cutoff}'"
    ))
    .await;
    let response = run(&app, &body).await;
    let second = response.assert_ok().clone();
    assert_eq!(fold_predictions(&first), fold_predictions(&second));
    let second_last = &second["main_model_results"]["fold_results"][2];
    assert_ne!(second_last["actuals"], last["actuals"]);
    assert_ne!(second_last["metrics"], last["metrics"]);
    assert_eq!(
        second["main_model_results"]["fold_results"][0]["metrics"],
        folds[0]["metrics"]
    );
}

async fn feature_aware_model_needs_thirty_training_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (store, product) = weekly_fixture(&app).await;
    let mut body = request(store, product, json!({"model_type": "prophet_like"}));
    body["config"]["split_config"] = json!({"min_train_size": 29});
    run(&app, &body)
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "min_train_size >= 30");
}

both_backends!(
    feature_aware_folds_never_see_test_targets,
    feature_aware_model_needs_thirty_training_rows,
    seasonal_naive_beats_naive_on_a_weekly_pattern,
    metrics_match_a_hand_computed_fold,
    fold_details_can_be_left_out_and_gap_is_respected,
    validation_errors_are_422,
    invalid_model_config_values_are_422,
    runtime_errors_are_400,
    settings_limits_are_400,
    many_series_report_per_series_and_pooled_metrics,
    service_runs_without_http_with_progress_and_cancellation,
);
