//! HTTP handlers of `/config`.

use axum::{extract::State, Json as JsonResponse};

use super::{
    schemas::{AiConfigPatch, AiConfigResponse, OllamaModel, ProviderHealth},
    service,
};
use crate::{
    extract::Json,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// The AI settings in force: agent models and sampling, the embedder, the
/// Ollama server, masked provider keys and which keys are persisted
/// overrides. Raw keys are never returned.
#[utoipa::path(get, path = "/config/ai", tag = "config",
    responses((status = 200, description = "The AI settings in force", body = AiConfigResponse)))]
pub(crate) async fn get_ai(
    State(state): State<AppState>,
) -> Result<JsonResponse<AiConfigResponse>, Problem> {
    Ok(JsonResponse(service::get(&state).await?))
}

/// Changes AI settings live (no restart): persisted in `app_config`, then
/// applied (the embedder is rebuilt on next use; agents use the new models
/// from their next message). Null fields are ignored. 400 when no field is
/// given; 409 when `rag_embedding_dimension` changes while RAG chunks are
/// indexed and `force` is not true; 422 for an invalid value (a model
/// identifier that does not validate, with the suggested fix for a nested
/// provider prefix).
#[utoipa::path(patch, path = "/config/ai", tag = "config", request_body = AiConfigPatch,
    responses(
        (status = 200, description = "The AI settings now in force", body = AiConfigResponse),
        (status = 400, description = "No field to change", body = ProblemBody),
        (status = 409, description = "Dimension change with indexed chunks", body = ProblemBody)))]
pub(crate) async fn patch_ai(
    State(state): State<AppState>,
    Json(body): Json<AiConfigPatch>,
) -> Result<JsonResponse<AiConfigResponse>, Problem> {
    Ok(JsonResponse(service::patch(&state, body).await?))
}

/// Reachability of each provider, in the order ollama, openai, anthropic,
/// google: Ollama is asked for its models (10 s limit); cloud providers
/// count as reachable when their key is set.
#[utoipa::path(get, path = "/config/providers/health", tag = "config",
    responses((status = 200, description = "One entry per provider", body = Vec<ProviderHealth>)))]
pub(crate) async fn providers_health(
    State(state): State<AppState>,
) -> JsonResponse<Vec<ProviderHealth>> {
    JsonResponse(service::providers_health(&state).await)
}

/// The models pulled into the configured Ollama server. 502 when it cannot
/// be reached or does not answer like Ollama.
#[utoipa::path(get, path = "/config/ollama/models", tag = "config",
    responses(
        (status = 200, description = "Pulled models", body = Vec<OllamaModel>),
        (status = 502, description = "Ollama unreachable", body = ProblemBody)))]
pub(crate) async fn ollama_models(
    State(state): State<AppState>,
) -> Result<JsonResponse<Vec<OllamaModel>>, Problem> {
    Ok(JsonResponse(service::ollama_models(&state).await?))
}
