//! HTTP handlers of `/ops`.

use axum::{extract::State, Json as JsonResponse};

use super::{
    schemas::{ModelHealth, OpsLimitQuery, OpsSummary, RetrainingCandidates},
    service,
};
use crate::{
    extract::Query,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Runs and jobs per status, alias count and the stale aliases with their
/// reason: `run_not_success`, `feature_frame_version_mismatch` (a newer
/// `success` run of the series uses another feature frame version; a
/// missing version counts as 1) or `data_newer_than_model` (the series has
/// sales more than `OPS_STALE_AFTER_DAYS` days after the run's window).
#[utoipa::path(get, path = "/ops/summary", tag = "ops",
    responses((status = 200, description = "The summary", body = OpsSummary)))]
pub(crate) async fn summary(
    State(state): State<AppState>,
) -> Result<JsonResponse<OpsSummary>, Problem> {
    Ok(JsonResponse(service::summary(&state).await?))
}

/// Series to retrain: the champion (run of the series' most recently moved
/// alias, else its `success` run with the latest window) ends more than
/// `OPS_STALE_AFTER_DAYS` days before the series' newest sales day, or the
/// latest completed backtest job of the series scored a WAPE more than 5 %
/// worse than the previous one of the same model type. Furthest behind
/// first.
#[utoipa::path(get, path = "/ops/retraining-candidates", tag = "ops", params(OpsLimitQuery),
    responses(
        (status = 200, description = "Candidates", body = RetrainingCandidates),
        (status = 422, description = "Invalid query", body = ProblemBody)))]
pub(crate) async fn retraining_candidates(
    State(state): State<AppState>,
    Query(query): Query<OpsLimitQuery>,
) -> Result<JsonResponse<RetrainingCandidates>, Problem> {
    Ok(JsonResponse(
        service::retraining_candidates(&state, query.limit).await?,
    ))
}

/// Per alias: its run's metrics against the previous `success` run of the
/// same series and model type, on the first of wape, mae, rmse, smape,
/// mase both carry; `degrading` / `improving` beyond ±5 %, else `stable`;
/// `no_baseline` without a comparable predecessor. Most degraded first.
#[utoipa::path(get, path = "/ops/model-health", tag = "ops", params(OpsLimitQuery),
    responses(
        (status = 200, description = "Health per alias", body = ModelHealth),
        (status = 422, description = "Invalid query", body = ProblemBody)))]
pub(crate) async fn model_health(
    State(state): State<AppState>,
    Query(query): Query<OpsLimitQuery>,
) -> Result<JsonResponse<ModelHealth>, Problem> {
    Ok(JsonResponse(
        service::model_health(&state, query.limit).await?,
    ))
}
