//! The dashboard: its pages driven in a real headless Chromium in
//! [`pages`], its fragments' problems and its static files' caching over
//! plain HTTP in [`fragments`]. The helpers below serve both.

mod fragments;
mod pages;

use forecastlab_tests::{jobs, TestApp};
use serde_json::json;

/// Seeds the `demo_minimal` preset.
async fn seed(app: &TestApp) {
    app.post(
        "/seeder/generate",
        &json!({"scenario": "demo_minimal", "seed": 42}),
    )
    .await
    .assert_ok();
}

/// First and last day of the seeded sales.
async fn window(app: &TestApp) -> (String, String) {
    let status = app.get("/seeder/status").await;
    let status = status.assert_ok();
    (
        status["date_range_start"].as_str().unwrap().to_owned(),
        status["date_range_end"].as_str().unwrap().to_owned(),
    )
}

/// Queues a `naive` job of `job_type` (`train` or `backtest`) on store 1 /
/// product 1 over `start..=end`; returns its id.
async fn queue_naive(app: &TestApp, job_type: &str, start: &str, end: &str) -> String {
    let queued = jobs::submit(
        app,
        job_type,
        json!({"model_type": "naive", "store_id": 1, "product_id": 1,
               "start_date": start, "end_date": end}),
    )
    .await;
    queued["job_id"].as_str().unwrap().to_owned()
}
