//! HTTP handlers of `/agents`.

use axum::{extract::State, http::StatusCode, Json as JsonResponse};

use super::{
    schemas::{
        ApprovalRequest, ApprovalResponse, ChatRequest, ChatResponse, SessionCreate,
        SessionResponse, ToolCallListResponse,
    },
    service,
};
use crate::{
    extract::{Json, Path},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Creates a session for an agent. 400 when the agent cannot be built
/// (the configured model's provider key is missing, or no backend for it
/// is linked in), naming the setting to configure.
#[utoipa::path(post, path = "/agents/sessions", tag = "agents", request_body = SessionCreate,
    responses(
        (status = 201, description = "Session created", body = SessionResponse,
            links(
                ("GetSession" = (operation_id = "get_session", parameters(("session_id" = "$response.body#/session_id")))),
                ("Chat" = (operation_id = "chat", parameters(("session_id" = "$response.body#/session_id")))),
                ("Approve" = (operation_id = "approve", parameters(("session_id" = "$response.body#/session_id")))),
                ("ToolCalls" = (operation_id = "tool_calls", parameters(("session_id" = "$response.body#/session_id")))),
            )),
        (status = 400, description = "The agent cannot be built", body = ProblemBody),
        (status = 422, description = "Invalid body (including an unknown agent_type)",
            body = ProblemBody)))]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Json(body): Json<SessionCreate>,
) -> Result<(StatusCode, JsonResponse<SessionResponse>), Problem> {
    let session = service::create_session(&state, body).await?;
    Ok((StatusCode::CREATED, JsonResponse(session)))
}

/// One session with its conversation (`message_history`), token and cost
/// counters and pending action.
#[utoipa::path(get, path = "/agents/sessions/{session_id}", tag = "agents",
    params(("session_id" = String, Path, description = "32-hex session id")),
    responses(
        (status = 200, description = "The session", body = SessionResponse),
        (status = 404, description = "No such session", body = ProblemBody)))]
pub(crate) async fn get_session(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<JsonResponse<SessionResponse>, Problem> {
    Ok(JsonResponse(
        service::get_session(&state, &session_id, true).await?,
    ))
}

/// Closes a session (any status); a closed session takes no more messages.
#[utoipa::path(delete, path = "/agents/sessions/{session_id}", tag = "agents",
    params(("session_id" = String, Path, description = "32-hex session id")),
    responses(
        (status = 204, description = "Closed"),
        (status = 404, description = "No such session", body = ProblemBody)))]
pub(crate) async fn delete_session(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<StatusCode, Problem> {
    service::close_session(&state, &session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a message and waits for the whole answer. The agent calls its
/// tools one after another (at most `AGENT_MAX_TOOL_CALLS` counted calls,
/// within `AGENT_TIMEOUT_SECONDS`); a gated tool's call is held for
/// approval instead of running. While an action waits for approval the
/// answer says so without running the model. A model that produces an
/// invalid tool call gets a 200 asking to rephrase. 410 when the session is
/// expired or closed; 502 `AGENT_FALLBACK_EXHAUSTED` with `failures[]`
/// (classified, secret-scrubbed) when every configured model fails; 504
/// `AGENT_TIMEOUT` past the time limit; 409 when the session changed during
/// the run (nothing is saved then).
#[utoipa::path(post, path = "/agents/sessions/{session_id}/chat", tag = "agents",
    request_body = ChatRequest,
    params(("session_id" = String, Path, description = "32-hex session id")),
    responses(
        (status = 200, description = "The answer", body = ChatResponse),
        (status = 400, description = "The agent cannot be built", body = ProblemBody),
        (status = 404, description = "No such session", body = ProblemBody),
        (status = 409, description = "The session changed during the run", body = ProblemBody),
        (status = 410, description = "Session expired or closed", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody),
        (status = 502, description = "Every configured model failed", body = ProblemBody),
        (status = 504, description = "The agent timed out", body = ProblemBody)))]
pub(crate) async fn chat(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Json(body): Json<ChatRequest>,
) -> Result<JsonResponse<ChatResponse>, Problem> {
    Ok(JsonResponse(
        service::chat(&state, &session_id, body).await?,
    ))
}

/// Approves (executes) or rejects the pending action. `status` is
/// `executed`, `rejected` (also for an approved action that failed, with
/// `result.error`) or `expired` (past `expires_at`: nothing runs). 400 when
/// there is no pending action or `action_id` is not it.
#[utoipa::path(post, path = "/agents/sessions/{session_id}/approve", tag = "agents",
    request_body = ApprovalRequest,
    params(("session_id" = String, Path, description = "32-hex session id")),
    responses(
        (status = 200, description = "The decision's outcome", body = ApprovalResponse),
        (status = 400, description = "No pending action, or another action id", body = ProblemBody),
        (status = 404, description = "No such session", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn approve(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Json(body): Json<ApprovalRequest>,
) -> Result<JsonResponse<ApprovalResponse>, Problem> {
    Ok(JsonResponse(
        service::approve(&state, &session_id, body).await?,
    ))
}

/// Every tool call of the session, oldest first: arguments, status, result
/// summary, duration, the model that asked, and for gated calls the
/// decision and who made it.
#[utoipa::path(get, path = "/agents/sessions/{session_id}/tool-calls", tag = "agents",
    params(("session_id" = String, Path, description = "32-hex session id")),
    responses(
        (status = 200, description = "The audit", body = ToolCallListResponse),
        (status = 404, description = "No such session", body = ProblemBody)))]
pub(crate) async fn tool_calls(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<JsonResponse<ToolCallListResponse>, Problem> {
    Ok(JsonResponse(
        service::tool_calls(&state, &session_id).await?,
    ))
}
