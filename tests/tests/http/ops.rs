//! /ops: the read-only summary (counts, stale aliases with their reason),
//! retraining candidates and per-alias model health, over registry runs,
//! aliases, backtest jobs and sales — on SQLite and PostgreSQL.

use chrono::{Days, NaiveDate};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Stores 1–2, product 1, daily sales from 2024-01-01 to 2024-03-31.
async fn seed_sales(app: &TestApp) {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
    app.exec(
        "INSERT INTO store (id, code, name) VALUES (1, 'S1', 'Store 1'), (2, 'S2', 'Store 2');\
         INSERT INTO product (id, sku, name) VALUES (1, 'SKU1', 'Product 1')",
    )
    .await;
    fixtures::calendar(app, start, end).await;
    let mut rows = Vec::new();
    for store in 1..=2 {
        let mut day = start;
        while day <= end {
            rows.push(Sale::new(&day.to_string(), store, 1, 10, "2.00", "20.00"));
            day = day + Days::new(1);
        }
    }
    fixtures::sales(app, &rows).await;
}

/// Registers a run and moves it to `success` with `metrics`.
async fn success_run(
    app: &TestApp,
    model_type: &str,
    store_id: i64,
    window_end: &str,
    metrics: Value,
    version: Option<i64>,
) -> String {
    let mut body = json!({
        "model_type": model_type,
        "model_config": {"model_type": model_type},
        "data_window_start": "2024-01-01",
        "data_window_end": window_end,
        "store_id": store_id,
        "product_id": 1,
    });
    if let Some(version) = version {
        body["runtime_info_extras"] = json!({"feature_frame_version": version});
    }
    let run = app
        .post("/registry/runs", &body)
        .await
        .assert_status(201)
        .clone();
    let id = run["run_id"].as_str().unwrap().to_owned();
    let path = format!("/registry/runs/{id}");
    app.patch(&path, &json!({"status": "running"}))
        .await
        .assert_ok();
    app.patch(&path, &json!({"status": "success", "metrics": metrics}))
        .await
        .assert_ok();
    id
}

async fn alias(app: &TestApp, name: &str, run_id: &str) {
    app.post(
        "/registry/aliases",
        &json!({"alias_name": name, "run_id": run_id}),
    )
    .await
    .assert_status(201);
}

async fn empty_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let summary = app.get("/ops/summary").await.assert_ok().clone();
    assert_eq!(summary["total_runs"], 0);
    assert_eq!(summary["total_aliases"], 0);
    assert_eq!(summary["total_jobs"], 0);
    assert_eq!(summary["stale_aliases"], json!([]));
    assert_eq!(summary["stale_after_days"], 7);
    assert_eq!(
        summary["runs_by_status"],
        json!({"pending": 0, "running": 0, "success": 0, "failed": 0, "archived": 0})
    );
    let candidates = app
        .get("/ops/retraining-candidates")
        .await
        .assert_ok()
        .clone();
    assert_eq!(candidates["candidates"], json!([]));
    assert_eq!(candidates["total"], 0);
    let health = app.get("/ops/model-health").await.assert_ok().clone();
    assert_eq!(health["items"], json!([]));
    assert_eq!(health["degrading_count"], 0);
}

async fn stale_aliases_and_their_reasons(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app).await;
    // Series (1, 1): a current champion, later joined by a V3 run.
    success_run(&app, "naive", 1, "2024-03-31", json!({"wape": 0.2}), None).await;
    let champion = success_run(
        &app,
        "naive",
        1,
        "2024-03-30",
        json!({"wape": 0.3, "mae": 2.0}),
        None,
    )
    .await;
    alias(&app, "champ", &champion).await;
    // Series (2, 1): an alias whose run ends 30 days before the data.
    let old = success_run(
        &app,
        "seasonal_naive",
        2,
        "2024-03-01",
        json!({"wape": 0.5}),
        None,
    )
    .await;
    alias(&app, "old", &old).await;
    // A pending run counts but is never a champion.
    app.post(
        "/registry/runs",
        &json!({"model_type": "naive", "model_config": {"model_type": "naive"},
                "data_window_start": "2024-01-01", "data_window_end": "2024-01-31",
                "store_id": 1, "product_id": 1}),
    )
    .await
    .assert_status(201);

    let summary = app.get("/ops/summary").await.assert_ok().clone();
    assert_eq!(summary["total_runs"], 4);
    assert_eq!(summary["runs_by_status"]["success"], 3);
    assert_eq!(summary["runs_by_status"]["pending"], 1);
    assert_eq!(summary["total_aliases"], 2);
    assert_eq!(summary["stale_aliases_count"], 1, "{summary}");
    let stale = &summary["stale_aliases"][0];
    assert_eq!(stale["alias_name"], "old");
    assert_eq!(stale["run_id"], old.as_str());
    assert_eq!(stale["stale_reason"], "data_newer_than_model");
    assert_eq!(stale["reasons"], json!(["data_newer_than_model"]));
    assert_eq!(stale["days_behind"], 30);
    assert_eq!(stale["latest_data_date"], "2024-03-31");
    assert_eq!(stale["store_id"], 2);

    // A newer successful run of series (1, 1) on feature frame version 3.
    let v3 = success_run(
        &app,
        "prophet_like",
        1,
        "2024-03-31",
        json!({"wape": 9.0}),
        Some(3),
    )
    .await;
    // The V1 alias is now stale: the versions differ (null counts as 1).
    let summary = app.get("/ops/summary").await.assert_ok().clone();
    assert_eq!(summary["stale_aliases_count"], 2, "{summary}");
    let champ = &summary["stale_aliases"][0];
    assert_eq!(champ["alias_name"], "champ");
    assert_eq!(champ["stale_reason"], "feature_frame_version_mismatch");
    assert_eq!(champ["newer_run_id"], v3.as_str());
    assert_eq!(champ["newer_feature_frame_version"], 3);
    assert_eq!(champ["feature_frame_version"], Value::Null);
    assert_eq!(champ["days_behind"], 1);
    // Pointing the alias at the V3 run clears it.
    alias(&app, "champ", &v3).await;
    let summary = app.get("/ops/summary").await.assert_ok().clone();
    assert_eq!(summary["stale_aliases_count"], 1);

    // Archiving the run behind `old` is the most serious reason.
    app.patch(
        &format!("/registry/runs/{old}"),
        &json!({"status": "archived"}),
    )
    .await
    .assert_ok();
    let summary = app.get("/ops/summary").await.assert_ok().clone();
    let stale = &summary["stale_aliases"][0];
    assert_eq!(stale["stale_reason"], "run_not_success");
    assert_eq!(
        stale["reasons"],
        json!(["run_not_success", "data_newer_than_model"])
    );
    assert_eq!(summary["runs_by_status"]["archived"], 1);
}

async fn model_health_against_the_previous_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app).await;
    let before = success_run(
        &app,
        "naive",
        1,
        "2024-03-01",
        json!({"wape": 0.2, "mae": 1.0}),
        None,
    )
    .await;
    // Another model type in between is not a predecessor.
    success_run(
        &app,
        "seasonal_naive",
        1,
        "2024-03-10",
        json!({"wape": 0.01}),
        None,
    )
    .await;
    let worse = success_run(
        &app,
        "naive",
        1,
        "2024-03-31",
        json!({"wape": 0.3, "mae": 0.5}),
        None,
    )
    .await;
    alias(&app, "worse", &worse).await;
    let better = success_run(&app, "naive", 2, "2024-03-01", json!({"mae": 4.0}), None).await;
    let best = success_run(&app, "naive", 2, "2024-03-31", json!({"mae": 2.0}), None).await;
    alias(&app, "better", &best).await;
    let lonely = success_run(
        &app,
        "moving_average",
        2,
        "2024-03-31",
        json!({"wape": 0.4}),
        None,
    )
    .await;
    alias(&app, "lonely", &lonely).await;

    let health = app.get("/ops/model-health").await.assert_ok().clone();
    assert_eq!(health["total"], 3);
    assert_eq!(health["degrading_count"], 1);
    let items = health["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["alias_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["worse", "better", "lonely"], "most degraded first");
    let worse_item = &items[0];
    assert_eq!(worse_item["previous_run_id"], before.as_str());
    assert_eq!(worse_item["metric"], "wape", "wape is preferred over mae");
    assert_eq!(worse_item["latest_value"], 0.3);
    assert_eq!(worse_item["previous_value"], 0.2);
    let change = worse_item["relative_change"].as_f64().unwrap();
    assert!((change - 0.5).abs() < 1e-9, "{change}");
    assert_eq!(worse_item["trend"], "degrading");
    assert_eq!(items[1]["previous_run_id"], better.as_str());
    assert_eq!(items[1]["metric"], "mae");
    assert_eq!(items[1]["trend"], "improving");
    assert_eq!(items[2]["trend"], "no_baseline");
    assert_eq!(items[2]["previous_run_id"], Value::Null);

    let limited = app
        .get("/ops/model-health?limit=1")
        .await
        .assert_ok()
        .clone();
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
    assert_eq!(limited["total"], 3);
    assert_eq!(limited["degrading_count"], 1);
}

/// Inserts a completed backtest job row for series (store, 1).
async fn backtest_job(app: &TestApp, n: i64, store: i64, model: &str, wape: f64, at: &str) {
    let result = json!({"store_id": store, "product_id": 1, "model_type": model,
                        "aggregated_metrics": {"wape": wape, "mae": 1.0}});
    let params = json!({"store_id": store, "product_id": 1, "model_type": model});
    app.exec(&format!(
        "INSERT INTO job (job_id, job_type, status, params, result, completed_at) VALUES \
         ('{n:032x}', 'backtest', 'completed', '{params}', '{result}', '{at}')"
    ))
    .await;
}

async fn retraining_candidates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app).await;
    // Series (1, 1): the freshest run is current, but its backtests degrade.
    success_run(&app, "naive", 1, "2024-03-01", json!({}), None).await;
    let fresh = success_run(&app, "naive", 1, "2024-03-31", json!({}), None).await;
    backtest_job(&app, 1, 1, "naive", 0.20, "2024-04-01T00:00:00Z").await;
    backtest_job(&app, 2, 1, "naive", 0.25, "2024-04-02T00:00:00Z").await;
    // Series (2, 1): an alias on a run 20 days behind wins over a fresher
    // unaliased run; its backtests improve.
    let aliased = success_run(&app, "seasonal_naive", 2, "2024-03-11", json!({}), None).await;
    success_run(&app, "naive", 2, "2024-03-30", json!({}), None).await;
    alias(&app, "store-two", &aliased).await;
    backtest_job(&app, 3, 2, "naive", 0.30, "2024-04-01T00:00:00Z").await;
    backtest_job(&app, 4, 2, "naive", 0.20, "2024-04-02T00:00:00Z").await;

    let body = app
        .get("/ops/retraining-candidates")
        .await
        .assert_ok()
        .clone();
    assert_eq!(body["total"], 2, "{body}");
    let candidates = body["candidates"].as_array().unwrap();
    let two = &candidates[0];
    assert_eq!(two["store_id"], 2, "furthest behind first");
    assert_eq!(two["champion_run_id"], aliased.as_str());
    assert_eq!(two["alias_name"], "store-two");
    assert_eq!(two["days_behind"], 20);
    assert_eq!(two["reasons"], json!(["data_behind"]));
    assert_eq!(two["backtest"]["trend"], "improving");
    let one = &candidates[1];
    assert_eq!(one["champion_run_id"], fresh.as_str());
    assert_eq!(one["alias_name"], Value::Null);
    assert_eq!(one["days_behind"], 0);
    assert_eq!(one["reasons"], json!(["backtest_degraded"]));
    assert_eq!(one["backtest"]["latest_wape"], 0.25);
    assert_eq!(one["backtest"]["previous_wape"], 0.2);

    let limited = app
        .get("/ops/retraining-candidates?limit=1")
        .await
        .assert_ok()
        .clone();
    assert_eq!(limited["candidates"].as_array().unwrap().len(), 1);
    assert_eq!(limited["total"], 2);
    // The setting moves the threshold: 25 days is more than 20.
    let lenient = TestApp::spawn_with(backend, &[("OPS_STALE_AFTER_DAYS", "25")]).await;
    let body = lenient
        .get("/ops/retraining-candidates")
        .await
        .assert_ok()
        .clone();
    assert_eq!(body["stale_after_days"], 25);
}

async fn invalid_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/ops/retraining-candidates", "/ops/model-health"] {
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            app.get(&format!("{path}?limit={bad}"))
                .await
                .assert_invalid("query.limit");
        }
        app.get(&format!("{path}?limit=100")).await.assert_ok();
    }
}

both_backends!(
    empty_database,
    stale_aliases_and_their_reasons,
    model_health_against_the_previous_run,
    retraining_candidates,
    invalid_limits,
);
