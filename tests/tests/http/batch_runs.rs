//! How a batch registers its runs: each series' run is written once its
//! training ended, in its final state — `success` with its registry copy
//! (under the run's id, hashed), or `failed` with why — on SQLite and
//! PostgreSQL.

use chrono::{DateTime, Days, NaiveDate, Utc};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    jobs::{finished, submit, wait_for},
    Backend, TestApp,
};
use serde_json::{json, Value};

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// Store 1 with products 1 (70 days of sales) and 2 (10 days: too few for
/// `regression`, which needs 30 rows).
async fn seed(app: &TestApp) {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    app.exec(
        "INSERT INTO store (id, code, name) VALUES (1, 'S1', 'Store 1');\
         INSERT INTO product (id, sku, name) VALUES (1, 'SKU1', 'P1'), (2, 'SKU2', 'P2');",
    )
    .await;
    fixtures::calendar(app, start, start + Days::new(69)).await;
    let mut rows = Vec::new();
    for (product, days) in [(1, 70), (2, 10)] {
        for d in 0..days {
            let date = (start + Days::new(d)).to_string();
            let quantity = 10 + (d as i64 % 7) * 2 + product;
            let total = format!("{}.{:02}", quantity * 5 / 2, quantity * 250 % 100);
            rows.push(Sale::new(&date, 1, product, quantity, "2.50", &total));
        }
    }
    fixtures::sales(app, &rows).await;
}

async fn batch_registers_finished_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let job = submit(
        &app,
        "batch",
        json!({"model_type": "regression", "start_date": "2024-01-01", "end_date": "2024-03-10"}),
    )
    .await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    let result = &job["result"];
    assert_eq!(result["series_succeeded"], 1, "{result}");
    assert_eq!(result["series_failed"], 1, "{result}");
    // One run per series, none left open.
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_run WHERE status IN ('pending', 'running')")
            .await,
        0
    );
    let entries = result["runs"].as_array().unwrap();
    let entry = |status: &str| {
        entries
            .iter()
            .find(|entry| entry["status"] == status)
            .unwrap()
    };
    let run = |entry: &Value| {
        let path = format!("/registry/runs/{}", entry["run_id"].as_str().unwrap());
        let app = &app;
        async move { app.get(&path).await.assert_ok().clone() }
    };

    let trained = entry("success");
    let success = run(trained).await;
    assert_eq!(success["status"], "success");
    assert_eq!(success["runtime_info"]["job_id"], job["job_id"]);
    assert_eq!(
        success["artifact_uri"],
        format!(
            "runs/{}/model_{}.flmodel",
            trained["run_id"].as_str().unwrap(),
            trained["artifact_key"].as_str().unwrap()
        )
    );
    assert_eq!(success["metrics"]["n_observations"], 70);
    assert!(time(&success["started_at"]) <= time(&success["completed_at"]));
    let verify = format!(
        "/registry/runs/{}/verify",
        trained["run_id"].as_str().unwrap()
    );
    assert_eq!(app.get(&verify).await.body["verified"], true);

    let untrainable = entry("failed");
    assert_eq!(untrainable["product_id"], 2);
    let failed = run(untrainable).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error_message"], untrainable["error"]);
    let message = failed["error_message"].as_str().unwrap();
    assert!(message.contains("Need at least 30"), "{message}");
    assert!(failed["artifact_uri"].is_null());
    assert!(failed["metrics"].is_null());
    assert!(time(&failed["started_at"]) <= time(&failed["completed_at"]));
}

/// Runs a `seasonal_naive` batch over the seeded series and waits for it.
async fn batch(app: &TestApp) -> Value {
    let job = submit(
        app,
        "batch",
        json!({"model_type": "seasonal_naive", "start_date": "2024-01-01",
               "end_date": "2024-03-10"}),
    )
    .await;
    wait_for(app, job["job_id"].as_str().unwrap(), finished).await
}

/// Under `REGISTRY_DUPLICATE_POLICY=deny` a batch that would register a
/// run again (same config, series and window) fails with the 409 naming
/// the earlier run, before training anything: no run is added.
async fn batch_rerun_denied_as_duplicate(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REGISTRY_DUPLICATE_POLICY", "deny")]).await;
    seed(&app).await;
    let first = batch(&app).await;
    assert_eq!(first["status"], "completed", "{first}");
    assert_eq!(first["result"]["series_succeeded"], 2, "{first}");
    let existing: Vec<&str> = first["result"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["run_id"].as_str().unwrap())
        .collect();

    let again = batch(&app).await;
    assert_eq!(again["status"], "failed", "{again}");
    assert_eq!(again["error"]["status"], 409, "{again}");
    let message = again["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("Duplicate run detected"), "{again}");
    assert!(
        existing.iter().any(|run_id| message.contains(run_id)),
        "{again}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, 2);
}

/// Under the default policy (`detect`) the same rerun registers new runs
/// beside the earlier ones.
async fn batch_rerun_detected_registers_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    assert_eq!(batch(&app).await["status"], "completed");
    let again = batch(&app).await;
    assert_eq!(again["status"], "completed", "{again}");
    assert_eq!(again["result"]["series_succeeded"], 2, "{again}");
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, 4);
}

both_backends!(
    batch_registers_finished_runs,
    batch_rerun_denied_as_duplicate,
    batch_rerun_detected_registers_again
);
