//! Background jobs through `/jobs`: submit one, then poll it until it
//! settles.
//!
//! ```ignore
//! let queued = jobs::submit(&app, "train", params).await;
//! let job = jobs::wait_for(&app, queued["job_id"].as_str().unwrap(), jobs::finished).await;
//! let result = jobs::run(&app, "backtest", params).await; // must complete
//! ```

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::TestApp;

/// How long [`wait_for`] polls before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// `POST /jobs`; asserts 202 Accepted and returns the queued job.
pub async fn submit(app: &TestApp, job_type: &str, params: Value) -> Value {
    let response = app
        .post("/jobs", &json!({"job_type": job_type, "params": params}))
        .await;
    response.assert_status(202).clone()
}

/// Whether `job` reached a final status (`completed`, `failed` or
/// `cancelled`).
pub fn finished(job: &Value) -> bool {
    matches!(
        job["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
}

/// Polls `GET /jobs/{job_id}` until `done(job)` and returns that job;
/// fails after [`TIMEOUT`].
pub async fn wait_for(app: &TestApp, job_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let job = app
            .get(&format!("/jobs/{job_id}"))
            .await
            .assert_ok()
            .clone();
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "job did not settle: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Submits a job, waits until it is [`finished`] and returns its `result`;
/// fails unless it completed.
pub async fn run(app: &TestApp, job_type: &str, params: Value) -> Value {
    let queued = submit(app, job_type, params).await;
    let job_id = queued["job_id"].as_str().expect("job_id");
    let job = wait_for(app, job_id, finished).await;
    assert_eq!(
        job["status"], "completed",
        "{job_type} job did not complete: {job}"
    );
    job["result"].clone()
}
