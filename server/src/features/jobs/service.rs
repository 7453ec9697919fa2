//! Jobs behaviour: validating and queueing submissions, listing, cancel.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    params::{parse_params, BacktestParams, BatchParams, ModelChoice, PredictParams, TrainParams},
    repo::{self, JobFilter},
    schemas::{JobCreate, JobListQuery, JobListResponse, JobResponse, JobStatus, JobType},
};
use crate::{
    data::{
        keys::{Entity, KeyRef},
        series_names::SeriesNames,
    },
    extract::Violations,
    features::{
        registry::service::new_id,
        seeder::{job as seeder_job, schemas::GenerateParams},
    },
    jobs::shards,
    problem::Problem,
    state::AppState,
};

fn not_found(job_id: &str) -> Problem {
    Problem::not_found(format!(
        "Job not found: {job_id}. Use GET /jobs to list available jobs."
    ))
}

/// Checks the model exists, is enabled and accepts its config; every
/// failure is a 422 naming the parameter.
pub fn check_model(state: &AppState, model: &ModelChoice) -> Result<Value, Problem> {
    let registration =
        crate::models::resolve(&state.settings, &model.model_type).map_err(|problem| {
            Problem::invalid_field("params.model_type", problem.detail.clone(), "value_error")
        })?;
    let config = model.config_value();
    let forecaster = (registration.build)(&config).map_err(|error| {
        Problem::invalid_field("params.config", error.to_string(), "value_error")
    })?;
    Ok(forecaster.config_json())
}

/// Validates the parameters of `job_type` as a worker will read them.
pub fn validate_params(state: &AppState, job_type: JobType, params: &Value) -> Result<(), Problem> {
    let settings = &state.settings;
    match job_type {
        JobType::Train => {
            let params: TrainParams = parse_params(params)?;
            check_model(state, &params.model())?;
        }
        JobType::Predict => {
            let params: PredictParams = parse_params(params)?;
            let mut v = Violations::with_prefix(Some("params"));
            v.max(
                "horizon",
                params.horizon,
                settings.forecast_max_horizon as i64,
            );
            v.into_result()?;
        }
        JobType::Backtest => {
            let params: BacktestParams = parse_params(params)?;
            let mut v = Violations::with_prefix(Some("params"));
            v.max(
                "n_splits",
                params.n_splits,
                settings.backtest_max_splits as i64,
            );
            v.max("gap", params.gap, settings.backtest_max_gap as i64);
            v.into_result()?;
            check_model(state, &params.model())?;
        }
        JobType::Batch => {
            let params: BatchParams = parse_params(params)?;
            let mut v = Violations::with_prefix(Some("params"));
            v.max(
                "n_splits",
                params.n_splits,
                settings.backtest_max_splits as i64,
            );
            v.into_result()?;
            check_model(state, &params.model())?;
        }
        JobType::Seed => {
            let params: GenerateParams = parse_params(params)?;
            seeder_job::validate(settings, &params)?;
        }
    }
    Ok(())
}

/// Validates and queues a job; workers pick it up.
pub async fn submit(state: &AppState, request: JobCreate) -> Result<JobResponse, Problem> {
    let mut params = Value::Object(request.params);
    validate_params(state, request.job_type, &params)?;
    if let Value::Object(map) = &mut params {
        resolve_names(state, request.job_type, map).await?;
    }
    let job_id = new_id();
    repo::insert_job(&state.db, &job_id, request.job_type, &params).await?;
    state.job_signal.notify_waiters();
    get(state, &job_id).await
}

/// Replaces the store codes and SKUs of validated `params` by the ids they
/// name (404 unknown, 422 contradicting the id given with them), so the
/// stored job names its series by id and the worker needs no lookups.
async fn resolve_names(
    state: &AppState,
    job_type: JobType,
    params: &mut Map<String, Value>,
) -> Result<(), Problem> {
    let text = |params: &Map<String, Value>, name: &str| {
        params.get(name).and_then(Value::as_str).map(str::to_owned)
    };
    match job_type {
        JobType::Train | JobType::Backtest => {
            let (store_code, sku) = (text(params, "store_code"), text(params, "sku"));
            let names = SeriesNames {
                store_id: params.get("store_id").and_then(Value::as_i64),
                store_code: store_code.as_deref(),
                product_id: params.get("product_id").and_then(Value::as_i64),
                sku: sku.as_deref(),
            };
            let key = names.resolve(&state.db, "params.").await?;
            params.remove("store_code");
            params.remove("sku");
            params.insert("store_id".into(), key.store_id.into());
            params.insert("product_id".into(), key.product_id.into());
        }
        JobType::Batch => {
            for (keys_field, ids_field, entity) in [
                ("store_codes", "store_ids", Entity::Store),
                ("skus", "product_ids", Entity::Product),
            ] {
                let Some(Value::Array(keys)) = params.remove(keys_field) else {
                    continue;
                };
                let mut ids: Vec<i64> = match params.get(ids_field) {
                    Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_i64).collect(),
                    _ => Vec::new(),
                };
                let mut listed: HashSet<i64> = ids.iter().copied().collect();
                for (i, key) in keys.iter().enumerate() {
                    let field = format!("params.{keys_field}.{i}");
                    let name = KeyRef {
                        entity,
                        id: None,
                        key: key.as_str(),
                        key_field: &field,
                    };
                    let id = name.require(&state.db, &field).await?;
                    if listed.insert(id) {
                        ids.push(id);
                    }
                }
                params.insert(ids_field.into(), ids.into());
            }
        }
        JobType::Predict | JobType::Seed => {}
    }
    Ok(())
}

/// One job or 404.
pub async fn get(state: &AppState, job_id: &str) -> Result<JobResponse, Problem> {
    repo::find_job(&state.db, job_id)
        .await?
        .ok_or_else(|| not_found(job_id))
}

/// Lists jobs with filters, pagination and an allow-listed sort: the
/// top-level jobs unless `include_shards`, only the shards of a batch with
/// `parent_job_id` (404 when that job does not exist).
pub async fn list(state: &AppState, query: JobListQuery) -> Result<JobListResponse, Problem> {
    if let Some(parent) = &query.parent_job_id {
        get(state, parent).await?;
    }
    let (order_by, known) = match query.sort_by.as_deref() {
        None | Some("created_at") => ("created_at", true),
        Some("completed_at") => ("completed_at", true),
        Some("job_type") => ("job_type", true),
        Some("status") => ("status", true),
        Some(_) => ("created_at", false),
    };
    let ascending = query
        .sort_order
        .as_deref()
        .is_some_and(|order| order.eq_ignore_ascii_case("asc"));
    let (jobs, total) = repo::list_jobs(
        &state.db,
        &JobFilter {
            job_type: query.job_type,
            status: query.status,
            include_shards: query.include_shards,
            parent_job_id: query.parent_job_id,
            order_by,
            descending: !(known && ascending),
            limit: query.page_size,
            offset: (query.page - 1) * query.page_size,
        },
    )
    .await?;
    Ok(JobListResponse {
        jobs,
        total,
        page: query.page,
        page_size: query.page_size,
    })
}

/// Outcome of a cancel request.
#[derive(Debug)]
pub enum CancelOutcome {
    /// The job was pending and is now cancelled.
    Cancelled(JobResponse),
    /// The job is running; its worker stops at the next checkpoint.
    Requested(JobResponse),
}

/// Cancels a job: pending → cancelled now; running → cooperative
/// cancellation; finished → 400.
pub async fn cancel(state: &AppState, job_id: &str) -> Result<CancelOutcome, Problem> {
    if repo::cancel_pending(&state.db, job_id).await? {
        return Ok(CancelOutcome::Cancelled(get(state, job_id).await?));
    }
    if repo::request_cancel(&state.db, job_id).await? {
        cancel_shards(state, job_id).await?;
        // A split batch none of whose shards was running is cancelled now.
        let job = get(state, job_id).await?;
        return Ok(match job.status {
            JobStatus::Cancelled => CancelOutcome::Cancelled(job),
            _ => CancelOutcome::Requested(job),
        });
    }
    let job = get(state, job_id).await?;
    match job.status {
        // Claimed or released between our two updates: one more try.
        JobStatus::Pending | JobStatus::Running => {
            if repo::cancel_pending(&state.db, job_id).await? {
                Ok(CancelOutcome::Cancelled(get(state, job_id).await?))
            } else if repo::request_cancel(&state.db, job_id).await? {
                Ok(CancelOutcome::Requested(get(state, job_id).await?))
            } else {
                let job = get(state, job_id).await?;
                Err(cannot_cancel(job.status))
            }
        }
        status => Err(cannot_cancel(status)),
    }
}

/// A split batch has no worker of its own: cancelling it cancels its
/// pending shards, asks its running ones to stop, and settles it when
/// nothing runs any more.
async fn cancel_shards(state: &AppState, job_id: &str) -> Result<(), Problem> {
    if let Some(parent) = shards::parked_parent(&state.db, job_id).await? {
        shards::cancel_children(&state.db, parent).await?;
        shards::settle(&state.db, parent).await?;
    }
    Ok(())
}

fn cannot_cancel(status: JobStatus) -> Problem {
    Problem::bad_request(format!("Cannot cancel job in status '{}'", status.as_str()))
        .with_extension("job_status", status.as_str())
}
