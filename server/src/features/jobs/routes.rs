//! HTTP handlers of `/jobs`.

use axum::{extract::State, http::StatusCode, Json as JsonResponse};

use super::{
    schemas::{JobCreate, JobListQuery, JobListResponse, JobResponse},
    service::{self, CancelOutcome},
};
use crate::{
    extract::{Json, Path, Query},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Queues a job and answers **202** at once; workers (in this server and in
/// any `forecastlab worker` process on the same database) run it in the
/// background. Poll `GET /jobs/{job_id}`.
///
/// Params per `job_type` (unknown keys are rejected, every error is a 422
/// naming `params.<field>` and nothing is queued):
/// Every model works in every job type, target-only and feature-aware alike
/// (opt-in models once compiled in and enabled). Store codes and SKUs are
/// resolved when the job is submitted (unknown → 404; naming another row
/// than the id given with them → 422) and the job stores the ids they name.
/// - `train`: `model_type` (default `naive`), `store_id` or `store_code`,
///   `product_id` or `sku`, `start_date`, `end_date`, `season_length` (seasonal_naive),
///   `window_size` (moving_average) or a full `config`; for feature-aware
///   models `feature_frame_version` (1) and `feature_groups`. The job registers a
///   model run (pending → running → success/failed) whose id is the job's
///   `run_id`; the result carries `run_id`, `artifact_key`, `model_path`,
///   `config_hash`, `n_observations`, dates and `duration_ms`.
/// - `predict`: `run_id` (12-hex artifact key or 32-hex registry run id),
///   `horizon` (default 14), `interval_level` (none), `strategy`
///   (feature-aware models: `recursive` or `direct`). Forecasts the series
///   the model was trained on, after its training end, exactly as
///   `POST /forecasting/predict`; the result has that response's fields
///   plus `run_id`.
/// - `backtest`: model selection as for train, series and dates,
///   `n_splits` (5), `test_size` (14, the split horizon), `gap` (0),
///   `min_train_size` (30), `include_baselines` (false); runs through the
///   backtesting slice; result `{backtest_id, model_type, n_splits,
///   aggregated_metrics, fold_metrics, comparison_summary,
///   leakage_check_passed, duration_ms, report}`, where `report` is the
///   complete `POST /backtesting/run` response (folds with their dates,
///   actuals and predictions; baselines; horizon buckets).
/// - `batch`: model selection, `start_date`, `end_date`, optional
///   `store_ids` and/or `store_codes`, `product_ids` and/or `skus` (default
///   every series with sales in the window), `backtest` (false), `n_splits` (3), `test_size` (14),
///   `feature_frame_version` / `feature_groups` as for train. Trains the
///   series concurrently as `POST /forecasting/train` does, reports
///   progress as series done / total and registers one run per series. With
///   `backtest`, a many-series backtest (expanding folds, main model only)
///   runs first and each run's metrics carry its series' aggregated fold
///   metrics; a series that cannot be backtested is still trained and its
///   entry says why under `backtest_skipped`.
/// - `seed`: the body of `POST /seeder/generate` (same rules and production
///   guard; no `dry_run`), for data sets above `SEEDER_MAX_ROWS_PER_REQUEST`
///   and up to `SEEDER_MAX_ROWS_PER_JOB` sales rows. Progress counts stores
///   written; the data set commits as a whole, so a running seed job is not
///   stopped half-way (cancel it while pending). The result is the
///   generate response.
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = JobCreate,
    responses(
        (status = 202, description = "Queued", body = JobResponse,
            links(
                ("GetJob" = (operation_id = "get_job", parameters(("job_id" = "$response.body#/job_id")))),
            )),
        (status = 404, description = "Unknown store code or SKU", body = ProblemBody),
        (status = 422, description = "Invalid job type or params", body = ProblemBody)))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    Json(body): Json<JobCreate>,
) -> Result<(StatusCode, JsonResponse<JobResponse>), Problem> {
    let job = service::submit(&state, body).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(job)))
}

/// Lists the jobs users submitted (`sort_by` allow-list: created_at,
/// completed_at, job_type, status; anything else falls back to created_at
/// desc). A batch split into shard jobs is listed once, its shards counted
/// by status under `shards`; `include_shards=true` lists the shard jobs
/// too, `parent_job_id` lists only the shards of one batch.
#[utoipa::path(get, path = "/jobs", tag = "jobs", operation_id = "list_jobs", params(JobListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobListResponse),
        (status = 404, description = "No job with that parent_job_id", body = ProblemBody),
        (status = 422, description = "Invalid query", body = ProblemBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<JobListQuery>,
) -> Result<JsonResponse<JobListResponse>, Problem> {
    Ok(JsonResponse(service::list(&state, query).await?))
}

/// One job: status, progress, result or error; a split batch counts its
/// shards by status (`shards`), a shard names its batch (`parent_job_id`).
#[utoipa::path(get, path = "/jobs/{job_id}", tag = "jobs", operation_id = "get_job",
    params(("job_id" = String, Path, description = "32-hex job id")),
    responses(
        (status = 200, description = "The job", body = JobResponse),
        (status = 404, description = "No such job", body = ProblemBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
) -> Result<JsonResponse<JobResponse>, Problem> {
    Ok(JsonResponse(service::get(&state, &job_id).await?))
}

/// Cancels a job: a pending job becomes `cancelled` (200); a running job is
/// asked to stop at its next checkpoint (202, `cancel_requested: true`,
/// it ends `cancelled`); a split batch cancels its pending shards and
/// stops its running ones (200 when none was running, so it is cancelled
/// at once; else 202); a completed, failed or cancelled job is a 400.
#[utoipa::path(delete, path = "/jobs/{job_id}", tag = "jobs",
    params(("job_id" = String, Path, description = "32-hex job id")),
    responses(
        (status = 200, description = "Cancelled", body = JobResponse),
        (status = 202, description = "Cancellation requested", body = JobResponse),
        (status = 400, description = "Already finished", body = ProblemBody),
        (status = 404, description = "No such job", body = ProblemBody)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
) -> Result<(StatusCode, JsonResponse<JobResponse>), Problem> {
    Ok(match service::cancel(&state, &job_id).await? {
        CancelOutcome::Cancelled(job) => (StatusCode::OK, JsonResponse(job)),
        CancelOutcome::Requested(job) => (StatusCode::ACCEPTED, JsonResponse(job)),
    })
}
