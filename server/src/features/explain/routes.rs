//! Handlers of `/explain/*`.

use axum::{extract::State, Json as JsonResponse};

use super::{
    schemas::{ExplainRequest, ForecastExplanation, StepQuery},
    service,
};
use crate::{
    extract::{Json, Path, Query},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Fits a target-only model (any in the registry) on the series' sales up
/// to `as_of_date` and explains step `step` (default 1) of its forecast:
/// drivers whose contributions add up to the forecast, confidence, reason
/// codes (stockout, promotion, lifecycle, holiday, short history), caveats
/// and a four-sentence summary. The explanation is stored.
///
/// Parameters a model does not have are ignored; omitted ones take the
/// model's defaults. A feature-aware model is a 400 (explain its trained
/// run instead); an unknown model or a series too short for it is a 400.
/// The series is named by `store_id` or `store_code` and `product_id` or
/// `sku` (an unknown code or SKU is a 404).
#[utoipa::path(post, path = "/explain/forecast", tag = "explain",
    request_body = ExplainRequest,
    responses(
        (status = 200, description = "Explanation", body = ForecastExplanation),
        (status = 400, description = "Unknown or feature-aware model, no or too little data", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store code or SKU", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn explain_forecast(
    State(state): State<AppState>,
    Json(request): Json<ExplainRequest>,
) -> Result<JsonResponse<ForecastExplanation>, Problem> {
    Ok(JsonResponse(
        service::explain_forecast(&state, request).await?,
    ))
}

/// Explains step `step` (default 1) of the forecast of a registry run's
/// model after its data window: rule-based drivers for baselines, exact
/// components (`component`) for linear models, exact TreeSHAP (`shap`) for
/// tree models; base value + Σ contributions = the forecast.
#[utoipa::path(get, path = "/explain/runs/{run_id}", tag = "explain",
    params(("run_id" = String, Path, description = "32-hex registry run id"), StepQuery),
    responses(
        (status = 200, description = "Explanation", body = ForecastExplanation),
        (status = 400, description = "Run without artifact, or a model that cannot explain itself", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid step", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn explain_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    Query(query): Query<StepQuery>,
) -> Result<JsonResponse<ForecastExplanation>, Problem> {
    Ok(JsonResponse(
        service::explain_run(&state, &run_id, query.step()).await?,
    ))
}

/// Explains step `step` (default 1) of a completed predict job's forecast
/// with the job's model and strategy.
#[utoipa::path(get, path = "/explain/jobs/{job_id}", tag = "explain",
    params(("job_id" = String, Path, description = "32-hex job id"), StepQuery),
    responses(
        (status = 200, description = "Explanation", body = ForecastExplanation),
        (status = 400, description = "Not a completed predict job, or its model is gone", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid step", body = ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn explain_job(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    Query(query): Query<StepQuery>,
) -> Result<JsonResponse<ForecastExplanation>, Problem> {
    Ok(JsonResponse(
        service::explain_job(&state, &job_id, query.step()).await?,
    ))
}
