//! HTTP handlers of `/registry`.

use axum::{extract::State, http::StatusCode, Json as JsonResponse};

use super::{
    schemas::{
        AliasCreate, AliasDeleteQuery, AliasHistoryResponse, AliasResponse, CompareResponse,
        RunCreate, RunListQuery, RunListResponse, RunResponse, RunUpdate, VerifyResponse,
    },
    service,
};
use crate::{
    extract::{Json, Path, Query},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Registers a model run (status `pending`). The duplicate policy
/// (`REGISTRY_DUPLICATE_POLICY`: allow, deny, detect) compares config hash,
/// series, data window and `feature_frame_version` with non-archived runs;
/// `deny` answers 409.
#[utoipa::path(post, path = "/registry/runs", tag = "registry", request_body = RunCreate,
    responses(
        (status = 201, description = "Run created", body = RunResponse,
            links(("CompareWithItself" = (operation_id = "compare_runs", parameters(("run_id_a" = "$response.body#/run_id"), ("run_id_b" = "$response.body#/run_id")))))),
        (status = 409, description = "Duplicate run (policy deny)", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn create_run(
    State(state): State<AppState>,
    Json(body): Json<RunCreate>,
) -> Result<(StatusCode, JsonResponse<RunResponse>), Problem> {
    let run = service::create_run(&state, body).await?;
    Ok((StatusCode::CREATED, JsonResponse(run)))
}

/// Lists runs. Unknown `sort_by` values fall back to `created_at desc`.
#[utoipa::path(get, path = "/registry/runs", tag = "registry", params(RunListQuery),
    responses(
        (status = 200, description = "A page of runs", body = RunListResponse),
        (status = 422, description = "Invalid query", body = ProblemBody)))]
pub(crate) async fn list_runs(
    State(state): State<AppState>,
    Query(query): Query<RunListQuery>,
) -> Result<JsonResponse<RunListResponse>, Problem> {
    Ok(JsonResponse(service::list_runs(&state, query).await?))
}

/// One run.
#[utoipa::path(get, path = "/registry/runs/{run_id}", tag = "registry",
    params(("run_id" = String, Path, description = "32-hex run id")),
    responses(
        (status = 200, description = "The run", body = RunResponse),
        (status = 404, description = "No such run", body = ProblemBody)))]
pub(crate) async fn get_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<JsonResponse<RunResponse>, Problem> {
    Ok(JsonResponse(service::get_run(&state, &run_id).await?))
}

/// Updates a run: a status change must be a valid transition (400 with
/// `valid_transitions` otherwise); only non-null fields are applied.
#[utoipa::path(patch, path = "/registry/runs/{run_id}", tag = "registry", request_body = RunUpdate,
    params(("run_id" = String, Path, description = "32-hex run id")),
    responses(
        (status = 200, description = "The updated run", body = RunResponse),
        (status = 400, description = "Invalid transition", body = ProblemBody),
        (status = 404, description = "No such run", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn update_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    Json(body): Json<RunUpdate>,
) -> Result<JsonResponse<RunResponse>, Problem> {
    Ok(JsonResponse(
        service::update_run(&state, &run_id, body).await?,
    ))
}

/// Recomputes the artifact's SHA-256: 200 `verified: true`, 200
/// `verified: false` with the mismatch, 404 when the file is missing, 400
/// when the run has no artifact or no stored hash, or the URI leaves the
/// registry root.
#[utoipa::path(get, path = "/registry/runs/{run_id}/verify", tag = "registry",
    params(("run_id" = String, Path, description = "32-hex run id")),
    responses(
        (status = 200, description = "Verification outcome", body = VerifyResponse),
        (status = 400, description = "No artifact or hash", body = ProblemBody),
        (status = 404, description = "No such run or artifact file", body = ProblemBody)))]
pub(crate) async fn verify_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<JsonResponse<VerifyResponse>, Problem> {
    Ok(JsonResponse(service::verify_run(&state, &run_id).await?))
}

/// Creates an alias or moves it onto another `success` run (201 either
/// way); every change is appended to the alias history.
#[utoipa::path(post, path = "/registry/aliases", tag = "registry", request_body = AliasCreate,
    responses(
        (status = 201, description = "Alias created or moved", body = AliasResponse),
        (status = 400, description = "Run missing or not success", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn upsert_alias(
    State(state): State<AppState>,
    Json(body): Json<AliasCreate>,
) -> Result<(StatusCode, JsonResponse<AliasResponse>), Problem> {
    let alias = service::upsert_alias(&state, body).await?;
    Ok((StatusCode::CREATED, JsonResponse(alias)))
}

/// Every alias, by name.
#[utoipa::path(get, path = "/registry/aliases", tag = "registry",
    responses((status = 200, description = "Aliases", body = Vec<AliasResponse>)))]
pub(crate) async fn list_aliases(
    State(state): State<AppState>,
) -> Result<JsonResponse<Vec<AliasResponse>>, Problem> {
    Ok(JsonResponse(service::list_aliases(&state).await?))
}

/// One alias.
#[utoipa::path(get, path = "/registry/aliases/{alias_name}", tag = "registry",
    params(("alias_name" = String, Path, description = "Alias name")),
    responses(
        (status = 200, description = "The alias", body = AliasResponse),
        (status = 404, description = "No such alias", body = ProblemBody)))]
pub(crate) async fn get_alias(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<JsonResponse<AliasResponse>, Problem> {
    Ok(JsonResponse(service::get_alias(&state, &name).await?))
}

/// Deletes an alias (recorded in its history with the optional `actor`
/// and `reason`).
#[utoipa::path(delete, path = "/registry/aliases/{alias_name}", tag = "registry",
    params(("alias_name" = String, Path, description = "Alias name"), AliasDeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such alias", body = ProblemBody)))]
pub(crate) async fn delete_alias(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<AliasDeleteQuery>,
) -> Result<StatusCode, Problem> {
    service::delete_alias(
        &state,
        &name,
        query.actor.as_deref(),
        query.reason.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The append-only history of an alias (create, move, update, delete),
/// oldest first; kept after the alias is deleted. 404 when the alias never
/// existed.
#[utoipa::path(get, path = "/registry/aliases/{alias_name}/history", tag = "registry",
    params(("alias_name" = String, Path, description = "Alias name")),
    responses(
        (status = 200, description = "History", body = AliasHistoryResponse),
        (status = 404, description = "Alias never existed", body = ProblemBody)))]
pub(crate) async fn alias_history(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<JsonResponse<AliasHistoryResponse>, Problem> {
    Ok(JsonResponse(service::alias_history(&state, &name).await?))
}

/// Diff of two runs: config keys that differ, every metric with `b − a`,
/// and the data window / series fields that differ.
#[utoipa::path(get, path = "/registry/compare/{run_id_a}/{run_id_b}", tag = "registry", operation_id = "compare_runs",
    params(("run_id_a" = String, Path, description = "First run"),
           ("run_id_b" = String, Path, description = "Second run")),
    responses(
        (status = 200, description = "The diff", body = CompareResponse),
        (status = 404, description = "One or both runs missing", body = ProblemBody)))]
pub(crate) async fn compare(
    State(state): State<AppState>,
    Path((a, b)): Path<(String, String)>,
) -> Result<JsonResponse<CompareResponse>, Problem> {
    Ok(JsonResponse(service::compare(&state, &a, &b).await?))
}
