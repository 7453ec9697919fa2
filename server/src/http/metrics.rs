//! Prometheus metrics: `GET /metrics` in the text exposition format, from
//! the `metrics` facade and `metrics-exporter-prometheus` (no hand-written
//! formatting).
//!
//! * `http_requests_total` and `http_request_duration_seconds` by method,
//!   route template (axum's `MatchedPath`, so `/jobs/{job_id}` is one series
//!   however many ids are asked for) and status — recorded by a middleware
//!   over every API route;
//! * `forecastlab_jobs` (count) and `forecastlab_job_oldest_age_seconds` by
//!   job type and status — read from the `job` table at scrape time;
//! * `forecastlab_model_fit_duration_seconds` by model;
//! * `forecastlab_db_pool_connections` by state (`idle`, `in_use`) and
//!   `forecastlab_db_pool_max_connections`.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    db::Db,
    features::jobs::schemas::{JobStatus, JobType},
    problem::Problem,
    state::AppState,
    with_db,
};

/// Buckets of request latencies, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Buckets of model fit durations, in seconds.
const FIT_BUCKETS: [f64; 10] = [0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0];

/// The process-wide recorder (installed on first use; every app in the
/// process shares it, as the `metrics` facade has one global recorder).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &LATENCY_BUCKETS,
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full("forecastlab_model_fit_duration_seconds".into()),
                    &FIT_BUCKETS,
                )
            })
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        handle
    })
}

/// The middleware recording every request by route template.
pub async fn record_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Records how long fitting `model` took.
pub fn record_fit(model: &str, seconds: f64) {
    metrics::histogram!("forecastlab_model_fit_duration_seconds", "model" => model.to_owned())
        .record(seconds);
}

/// The `/metrics` route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scrape))
}

/// Prometheus metrics in the text exposition format (version 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Metrics", body = String, content_type = "text/plain"),
    ))]
async fn scrape(State(state): State<AppState>) -> Result<Response, Problem> {
    let handle = handle();
    record_pool(&state.db);
    record_jobs(&state.db).await?;
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}

fn record_pool(db: &Db) {
    let (size, idle, max) = with_db!(db, pool => {
        (pool.size(), pool.num_idle(), pool.options().get_max_connections())
    });
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!("forecastlab_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("forecastlab_db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("forecastlab_db_pool_max_connections").set(f64::from(max));
}

async fn record_jobs(db: &Db) -> Result<(), sqlx::Error> {
    let now = crate::jobs::queue::database_now(db).await?;
    const SQL: &str = "SELECT job_type, status, CAST(COUNT(*) AS BIGINT), MIN(created_at) \
        FROM job GROUP BY job_type, status";
    let rows: Vec<(String, String, i64, Option<chrono::DateTime<chrono::Utc>>)> =
        with_db!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
    // Every known combination is written, so a count that fell to zero
    // reads 0 rather than its last value.
    for job_type in JobType::ALL {
        for status in JobStatus::ALL {
            let row = rows
                .iter()
                .find(|row| row.0 == job_type.as_str() && row.1 == status.as_str());
            let count = row.map_or(0, |row| row.2);
            let age = row
                .and_then(|row| row.3)
                .filter(|_| !status.is_terminal())
                .map_or(0.0, |oldest| {
                    (now - oldest).num_milliseconds().max(0) as f64 / 1000.0
                });
            let labels = [("type", job_type.as_str()), ("status", status.as_str())];
            metrics::gauge!("forecastlab_jobs", &labels).set(count as f64);
            metrics::gauge!("forecastlab_job_oldest_age_seconds", &labels).set(age);
        }
    }
    Ok(())
}
