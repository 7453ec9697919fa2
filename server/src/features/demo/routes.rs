//! HTTP and WebSocket handlers of the demo pipeline.

use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        State,
    },
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::Response,
    Json as JsonResponse,
};
use futures::SinkExt;
use serde_json::Map;
use tokio::sync::{mpsc, OwnedMutexGuard};

use super::{
    client::PlatformClient,
    pipeline,
    run::{bare_event, Run},
    runtime::{self, DemoRuntime, RelayOutcome, RelayedDecision},
    schemas::{
        DemoRunRequest, DemoRunResult, EventType, HitlDecisionRequest, OverallStatus, StepEvent,
        StepStatus,
    },
};
use crate::{
    extract::{parse_body, validate, Json},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Message of a second concurrent start.
pub(crate) const BUSY: &str = "A demo pipeline run is already in progress.";

/// Starts a run in a task of its own (it finishes even when the client
/// leaves; the lock is released when it ends) and returns its events.
fn start(
    state: AppState,
    request: DemoRunRequest,
    authorization: Option<HeaderValue>,
    runtime: std::sync::Arc<DemoRuntime>,
    guard: OwnedMutexGuard<()>,
) -> mpsc::UnboundedReceiver<StepEvent> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let client = PlatformClient::new(&state, authorization);
    let run = Run::new(state, client, request, runtime, sender);
    tokio::spawn(pipeline::execute(run, guard));
    receiver
}

fn authorization(headers: &HeaderMap) -> Option<HeaderValue> {
    headers.get(header::AUTHORIZATION).cloned()
}

/// Runs the demo pipeline to the end: 11 steps (24 for `showcase_rich`),
/// each through the platform's public routes in process. A failing step
/// stops the run; the answer is still 200 with `overall_status: fail` and
/// the step's detail (`<step>: HTTP <code> -- <title>: <detail>
/// (request_id=<id>)`). Steps for unconfigured pieces (no LLM key, routes
/// this build lacks) skip. 409 while another run is in progress (no
/// waiting). Cross-field rules of the body (422): see `DemoRunRequest`.
#[utoipa::path(post, path = "/demo/run", tag = "demo", request_body = DemoRunRequest,
    responses(
        (status = 200, description = "The run's steps and outcome", body = DemoRunResult),
        (status = 409, description = "Another run is in progress", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn run(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<DemoRunRequest>,
) -> Result<JsonResponse<DemoRunResult>, Problem> {
    let runtime = runtime::of(&state);
    let guard = runtime.try_start().ok_or_else(|| Problem::conflict(BUSY))?;
    let mut events = start(state, request, authorization(&headers), runtime, guard);
    let mut steps = Vec::new();
    while let Some(event) = events.recv().await {
        match event.event_type {
            EventType::StepComplete => steps.push(event),
            EventType::PipelineComplete => return Ok(JsonResponse(result_of(steps, &event))),
            EventType::StepStart | EventType::Error => {}
        }
    }
    Err(Problem::internal(
        "the demo pipeline ended without a summary",
    ))
}

fn result_of(steps: Vec<StepEvent>, summary: &StepEvent) -> DemoRunResult {
    let data = &summary.data;
    let text = |key: &str| data.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    DemoRunResult {
        overall_status: if summary.status == Some(StepStatus::Fail) {
            OverallStatus::Fail
        } else {
            OverallStatus::Pass
        },
        steps,
        winner_model_type: text("winner_model_type"),
        winner_wape: data.get("winner_wape").and_then(|v| v.as_f64()),
        winning_run_id: text("winning_run_id"),
        alias: text("alias"),
        wall_clock_s: data
            .get("wall_clock_s")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0),
        workspace_id: text("workspace_id"),
    }
}

/// `WS /demo/stream`: one JSON start frame (a `DemoRunRequest`), then one
/// event per step and `pipeline_complete`, then the server closes. A bad
/// frame or a busy pipeline is one `error` event, then close. Not an
/// OpenAPI operation (WebSocket).
pub(crate) async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let authorization = authorization(&headers);
    upgrade.on_upgrade(move |socket| serve_stream(socket, state, authorization))
}

fn error_event(detail: String) -> StepEvent {
    bare_event(
        EventType::Error,
        "pipeline",
        0,
        StepStatus::Fail,
        detail,
        Map::new(),
    )
}

/// Validates a start frame; `Err(text)` names every violation.
fn parse_frame(frame: &[u8]) -> Result<DemoRunRequest, String> {
    let describe = |problem: Problem| match &problem.errors {
        Some(errors) if !errors.is_empty() => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => problem.detail.clone(),
    };
    let request: DemoRunRequest = parse_body(frame).map_err(describe)?;
    validate(&request, None).map_err(describe)?;
    Ok(request)
}

async fn send(socket: &mut WebSocket, event: &StepEvent) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn serve_stream(mut socket: WebSocket, state: AppState, authorization: Option<HeaderValue>) {
    let frame = match socket.recv().await {
        Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
        Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
        _ => return,
    };
    let request = match parse_frame(&frame) {
        Ok(request) => request,
        Err(text) => {
            send(
                &mut socket,
                &error_event(format!("invalid start frame: {text}")),
            )
            .await;
            let _ = socket.close().await;
            return;
        }
    };
    let runtime = runtime::of(&state);
    let Some(guard) = runtime.try_start() else {
        send(&mut socket, &error_event(BUSY.to_owned())).await;
        let _ = socket.close().await;
        return;
    };
    let mut events = start(state, request, authorization, runtime, guard);
    while let Some(event) = events.recv().await {
        if !send(&mut socket, &event).await {
            // The client left: the run goes on in its own task.
            return;
        }
    }
    let _ = socket.close().await;
}

/// Relays the operator's decision on the pending HITL action of the
/// running showcase (`agent_hitl_flow`) to the pipeline. 404 when no
/// action with this id is pending; 409 when it was already decided.
#[utoipa::path(post, path = "/demo/hitl-decision", tag = "demo",
    request_body = HitlDecisionRequest,
    responses(
        (status = 204, description = "Decision delivered"),
        (status = 404, description = "No such pending action", body = ProblemBody),
        (status = 409, description = "Already decided", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn hitl_decision(
    State(state): State<AppState>,
    Json(body): Json<HitlDecisionRequest>,
) -> Result<StatusCode, Problem> {
    let decision = RelayedDecision {
        decision: body.decision,
        reason: body.reason,
    };
    match runtime::of(&state).decide(&body.action_id, decision) {
        RelayOutcome::Applied => Ok(StatusCode::NO_CONTENT),
        RelayOutcome::NotPending => Err(Problem::not_found(format!(
            "No pending HITL action: {}",
            body.action_id
        ))),
        RelayOutcome::AlreadyDecided => Err(Problem::conflict(format!(
            "Action already decided: {}",
            body.action_id
        ))),
    }
}
