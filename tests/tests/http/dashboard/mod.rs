//! The dashboard: its pages driven in a real headless Chromium in
//! [`pages`], its fragments' problems and its static files' caching over
//! plain HTTP in [`fragments`]. The helpers below serve both.

mod fragments;
mod pages;

use forecastlab_tests::TestApp;
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
