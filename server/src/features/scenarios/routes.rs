//! Handlers of `/scenarios/*`.

use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    Json as JsonResponse,
};

use super::{
    schemas::{
        CompareRequest, MultiScenarioComparison, ScenarioCreate, ScenarioListQuery,
        ScenarioListResponse, ScenarioPlanResponse, SimulateRequest, SimulateResponse,
    },
    service,
};
use crate::{
    extract::{Json, Path, Violations},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Simulates a what-if scenario against a trained model: baseline vs
/// scenario per day, totals, revenue at the series' latest unit price and a
/// stock-coverage verdict.
///
/// `run_id` is the model's 12-hex artifact key (or its path inside the
/// artifacts directory); a path outside it is a 400, a missing artifact a
/// 404. Target-only models use `heuristic` multipliers (price elasticity
/// −1.2; promotion uplift pct_off 1.25, bogo 1.40, bundle 1.15, markdown
/// 1.30; holiday 1.30; lifecycle launch 1.2, growth 1.1, maturity 1.0,
/// decline 0.85; each day's factor clamped to [0.1, 5.0]) or, with
/// `method: "elasticity"`, the same multipliers with the series' own price
/// elasticity learned from its history (falls back to −1.2 with a reason).
/// Feature-aware models re-forecast on two future frames that differ only
/// in the assumptions (`model_exogenous`); an artifact without feature
/// metadata is a 400 advising to retrain. Reversed windows are read the
/// other way round.
///
/// With `run_ids` (up to 500) instead of `run_id`, every run is simulated
/// under the same assumptions in parallel; the response lists each run's
/// comparison (or its error) and portfolio totals.
#[utoipa::path(post, path = "/scenarios/simulate", tag = "scenarios",
    request_body = SimulateRequest,
    responses(
        (status = 200, description = "Comparison (run_id) or portfolio (run_ids)", body = SimulateResponse),
        (status = 400, description = "Invalid artifact path, missing metadata, or a method the model cannot take", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such artifact", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn simulate(
    State(state): State<AppState>,
    Json(request): Json<SimulateRequest>,
) -> Result<JsonResponse<SimulateResponse>, Problem> {
    Ok(JsonResponse(service::simulate(&state, request).await?))
}

/// Runs a simulation and saves it as a plan (**201**) with its full
/// comparison snapshot; reading it later needs no artifact.
#[utoipa::path(post, path = "/scenarios", tag = "scenarios",
    request_body = ScenarioCreate,
    responses(
        (status = 201, description = "Saved", body = ScenarioPlanResponse,
            links(
                ("GetScenario" = (operation_id = "get_scenario", parameters(("scenario_id" = "$response.body#/scenario_id")))),
                ("DeleteScenario" = (operation_id = "delete_scenario", parameters(("scenario_id" = "$response.body#/scenario_id")))),
            )),
        (status = 400, description = "Invalid artifact path or metadata", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such artifact", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Json(request): Json<ScenarioCreate>,
) -> Result<(StatusCode, JsonResponse<ScenarioPlanResponse>), Problem> {
    let plan = service::create(&state, request).await?;
    Ok((StatusCode::CREATED, JsonResponse(plan)))
}

fn parse_list_query(raw: Option<&str>) -> Result<ScenarioListQuery, Problem> {
    let mut query = ScenarioListQuery {
        limit: None,
        offset: None,
        tags: None,
    };
    let mut v = Violations::with_prefix(Some("query"));
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key.contains('\0') || value.contains('\0') {
            v.push(
                &key.replace('\0', ""),
                "NUL characters are not allowed",
                "string_type",
            );
            continue;
        }
        let mut number = |field: &str| match value.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                v.push(
                    field,
                    "Input should be a valid integer, unable to parse string as an integer",
                    "int_parsing",
                );
                None
            }
        };
        match key.as_ref() {
            "limit" => query.limit = number("limit"),
            "offset" => query.offset = number("offset"),
            "tags" => query
                .tags
                .get_or_insert_with(Vec::new)
                .push(value.into_owned()),
            _ => {}
        }
    }
    if let Some(limit) = query.limit {
        v.range("limit", limit, 1, 100);
    }
    if let Some(offset) = query.offset {
        v.range("offset", offset, 0, 1_000_000);
    }
    if let Some(tags) = &query.tags {
        if tags.len() > 20 {
            v.push("tags", "At most 20 tags", "too_long");
        }
        for (i, tag) in tags.iter().enumerate() {
            v.length(&format!("tags.{i}"), tag, 1, 50);
        }
    }
    v.into_result().map(|()| query)
}

/// Saved plans, newest first; repeat `tags` to require several (a plan must
/// carry every tag given; `total` counts the filtered set).
#[utoipa::path(get, path = "/scenarios", tag = "scenarios", operation_id = "list_scenarios", params(ScenarioListQuery),
    responses(
        (status = 200, description = "A page of plans", body = ScenarioListResponse),
        (status = 422, description = "Invalid query", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<JsonResponse<ScenarioListResponse>, Problem> {
    let query = parse_list_query(raw.as_deref())?;
    Ok(JsonResponse(service::list(&state, &query).await?))
}

/// One saved plan with its snapshot (as stored; not recomputed).
#[utoipa::path(get, path = "/scenarios/{scenario_id}", tag = "scenarios", operation_id = "get_scenario",
    params(("scenario_id" = String, Path, description = "32-hex plan id")),
    responses(
        (status = 200, description = "The plan", body = ScenarioPlanResponse),
        (status = 404, description = "No such plan", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(scenario_id): Path<String>,
) -> Result<JsonResponse<ScenarioPlanResponse>, Problem> {
    Ok(JsonResponse(service::get(&state, &scenario_id).await?))
}

/// Deletes a plan (**204**, no body).
#[utoipa::path(delete, path = "/scenarios/{scenario_id}", tag = "scenarios", operation_id = "delete_scenario",
    params(("scenario_id" = String, Path, description = "32-hex plan id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such plan", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(scenario_id): Path<String>,
) -> Result<StatusCode, Problem> {
    service::delete(&state, &scenario_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Compares 2–5 distinct saved plans: ranked by `rank_by` (descending,
/// ties keep request order) and merged into one chart series (baseline of
/// the first plan, one member per plan id). Unknown ids → 404 listing them.
#[utoipa::path(post, path = "/scenarios/compare", tag = "scenarios", operation_id = "compare_scenarios",
    request_body = CompareRequest,
    responses(
        (status = 200, description = "Ranked comparison", body = MultiScenarioComparison),
        (status = 404, description = "Unknown plan ids", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn compare(
    State(state): State<AppState>,
    Json(request): Json<CompareRequest>,
) -> Result<JsonResponse<MultiScenarioComparison>, Problem> {
    Ok(JsonResponse(service::compare(&state, request).await?))
}
