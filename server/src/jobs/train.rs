//! Registering the model runs of jobs through the registry slice: a train
//! job's run goes pending → running → success / failed; a batch registers
//! each series' run once its training ended, in its final state (one
//! insert: [`record_trained`], [`record_failed`]).

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use forecastlab_core::SeriesKey;
use serde_json::{Map, Value};

use super::context::{JobContext, JobFailure};
use crate::{
    features::registry::{
        schemas::{RunCreate, RunStatus, RunUpdate},
        service::{self as registry, FinishedRun, PreparedRun},
    },
    problem::Problem,
    state::AppState,
};

/// The `runtime_info` extras of a run a job registers.
pub fn run_extras(job_id: &str, feature_frame_version: i64) -> Map<String, Value> {
    let mut extras = Map::new();
    extras.insert("job_id".into(), job_id.into());
    extras.insert("feature_frame_version".into(), feature_frame_version.into());
    extras
}

fn run_create(
    model_type: &str,
    config: &Value,
    key: SeriesKey,
    start: NaiveDate,
    end: NaiveDate,
    extras: Map<String, Value>,
) -> RunCreate {
    RunCreate {
        model_type: model_type.to_owned(),
        model_config: config.as_object().cloned().unwrap_or_default(),
        feature_config: None,
        data_window_start: start,
        data_window_end: end,
        store_id: key.store_id,
        product_id: key.product_id,
        agent_context: None,
        git_sha: None,
        runtime_info_extras: Some(extras),
    }
}

/// Registers a `pending` run for a training and moves it to `running`.
pub async fn start_run(
    state: &AppState,
    model_type: &str,
    config: &Value,
    key: SeriesKey,
    start: NaiveDate,
    end: NaiveDate,
    extras: Map<String, Value>,
) -> Result<String, Problem> {
    let request = run_create(model_type, config, key, start, end, extras);
    let run = registry::create_run(state, request).await?;
    set_status(state, &run.run_id, RunStatus::Running, None).await?;
    Ok(run.run_id)
}

/// The runs of a batch's series, prepared (ids, duplicate policy) but not
/// yet written: [`record_trained`] or [`record_failed`] registers each.
pub async fn prepare_runs(
    state: &AppState,
    model_type: &str,
    config: &Value,
    keys: &[SeriesKey],
    (start, end): (NaiveDate, NaiveDate),
    extras: &Map<String, Value>,
) -> Result<Vec<PreparedRun>, Problem> {
    let requests = keys
        .iter()
        .map(|key| run_create(model_type, config, *key, start, end, extras.clone()))
        .collect();
    registry::prepare_runs(state, requests).await
}

/// Copies the artifact `artifact_key` into the registry under the run's id,
/// then registers the run `success` with its metrics and the copy's
/// SHA-256 and size (read back from the store). A copy that fails
/// registers the run `failed`, naming the store when it is unreachable, and
/// returns the problem (a 502 `ARTIFACT_STORE_UNAVAILABLE` then). Returns
/// the registry URI.
pub async fn record_trained(
    state: &AppState,
    run: &PreparedRun,
    started_at: DateTime<Utc>,
    artifact_key: &str,
    metrics: Map<String, Value>,
) -> Result<String, Problem> {
    let (uri, hash, size) = match state
        .artifacts
        .copy_to_registry(artifact_key, &run.run_id)
        .await
    {
        Ok(copied) => copied,
        Err(error) => {
            let problem = Problem::internal(format!(
                "Cannot store the artifact in the registry: {error}"
            ));
            let problem = store_outage(state, &problem).await.unwrap_or(problem);
            record_failed(state, run, started_at, &problem.detail).await;
            return Err(problem);
        }
    };
    let outcome = FinishedRun {
        status: RunStatus::Success,
        started_at,
        metrics: Some(metrics),
        artifact: Some((uri.clone(), hash, i64::try_from(size).unwrap_or(i64::MAX))),
        error_message: None,
    };
    registry::record_finished_run(state, run, &outcome).await?;
    Ok(uri)
}

/// Registers the run `failed` with `message` (best effort, as
/// [`fail_run`]).
pub async fn record_failed(
    state: &AppState,
    run: &PreparedRun,
    started_at: DateTime<Utc>,
    message: &str,
) {
    let outcome = FinishedRun {
        status: RunStatus::Failed,
        started_at,
        metrics: None,
        artifact: None,
        error_message: Some(message.chars().take(2000).collect()),
    };
    if let Err(error) = registry::record_finished_run(state, run, &outcome).await {
        tracing::warn!(run_id = %run.run_id, %error, "could not register the failed model run");
    }
}

/// Continues with the run of an earlier attempt when it is still open,
/// else registers a new one.
pub async fn resume_or_start_run(
    ctx: &JobContext,
    model_type: &str,
    config: &Value,
    key: SeriesKey,
    start: NaiveDate,
    end: NaiveDate,
    feature_frame_version: i64,
) -> Result<String, JobFailure> {
    let state = ctx.state();
    if let Some(previous) = ctx.previous_run_id() {
        if let Ok(run) = registry::get_run(state, previous).await {
            match run.status {
                RunStatus::Running => return Ok(run.run_id),
                RunStatus::Pending => {
                    set_status(state, &run.run_id, RunStatus::Running, None).await?;
                    return Ok(run.run_id);
                }
                _ => {}
            }
        }
    }
    let extras = run_extras(ctx.job_id(), feature_frame_version);
    let run_id = start_run(state, model_type, config, key, start, end, extras).await?;
    ctx.attach_run(&run_id).await?;
    Ok(run_id)
}

async fn set_status(
    state: &AppState,
    run_id: &str,
    status: RunStatus,
    error_message: Option<String>,
) -> Result<(), Problem> {
    registry::update_run(
        state,
        run_id,
        RunUpdate {
            status: Some(status),
            error_message,
            ..RunUpdate::default()
        },
    )
    .await
    .map(|_| ())
}

/// Copies the artifact `artifact_key` into the registry and marks the run
/// `success` with its metrics, SHA-256 and size; a copy that fails marks
/// the run `failed` (never `success` without its artifact). Returns the
/// registry URI.
pub async fn finish_run(
    state: &AppState,
    run_id: &str,
    artifact_key: &str,
    metrics: Map<String, Value>,
) -> Result<String, Problem> {
    let (uri, hash, size) = match state.artifacts.copy_to_registry(artifact_key, run_id).await {
        Ok(copied) => copied,
        Err(error) => {
            let message = format!("Cannot store the artifact in the registry: {error}");
            fail_run(state, run_id, &message).await;
            return Err(Problem::internal(error));
        }
    };
    registry::update_run(
        state,
        run_id,
        RunUpdate {
            status: Some(RunStatus::Success),
            metrics: Some(metrics),
            artifact_uri: Some(uri.clone()),
            artifact_hash: Some(hash),
            artifact_size_bytes: Some(i64::try_from(size).unwrap_or(i64::MAX)),
            error_message: None,
        },
    )
    .await?;
    Ok(uri)
}

/// Marks the run `failed` with `message` (best effort: a run that is
/// already finished stays as it is).
pub async fn fail_run(state: &AppState, run_id: &str, message: &str) {
    let message: String = message.chars().take(2000).collect();
    if let Err(error) = set_status(state, run_id, RunStatus::Failed, Some(message)).await {
        tracing::warn!(run_id, %error, "could not mark the model run failed");
    }
}

/// The problem to report when a training or registry copy failed on the
/// server side (`problem` is a 5xx) because the artifact store is gone: a
/// 502 `ARTIFACT_STORE_UNAVAILABLE` naming the store's URL and why it does
/// not answer. `None` when `problem` is the caller's (4xx) or the store
/// still answers (the store is probed only after such a failure).
pub async fn store_outage(state: &AppState, problem: &Problem) -> Option<Problem> {
    if !problem.status.is_server_error() {
        return None;
    }
    let error = state.artifacts.check().await.err()?;
    tracing::warn!(%error, "artifact store unavailable");
    Some(Problem::new(
        StatusCode::BAD_GATEWAY,
        "ARTIFACT_STORE_UNAVAILABLE",
        format!("{error:#}; the artifact was not stored"),
    ))
}
