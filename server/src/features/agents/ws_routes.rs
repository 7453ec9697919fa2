//! `WS /agents/stream` (operations-ai spec §5.8): one connection, many
//! messages. Each client frame `{"session_id", "message"}` runs the same
//! chat as `POST /agents/sessions/{id}/chat` (expiry, the approval
//! short-circuit, history, counters, the approval gate), with the model's
//! turns streamed: `text_delta` pieces, `tool_call_start` / `tool_call_end`
//! around every tool call, `approval_required`, then `complete` — or one
//! `error` event. A bad frame is an error event and the connection stays
//! open; so does an unknown or expired session (the client should close).

use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use forecastlab_core::ai::ModelFailure;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{
    schemas::{ChatRequest, MAX_MESSAGE_CHARS},
    service::{self, Answered},
    stream::{EventSink, StreamEvent, MISBEHAVIOUR_EVENT},
};
use crate::{problem::Problem, state::AppState};

/// The error of a frame without both fields.
const MISSING_FIELDS: &str = "Missing required fields: session_id and message";

/// `WS /agents/stream`. Not an OpenAPI operation (WebSocket).
pub(crate) async fn stream(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| serve(socket, state))
}

async fn send(socket: &mut WebSocket, event: &StreamEvent) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn serve(mut socket: WebSocket, state: AppState) {
    while let Some(Ok(message)) = socket.recv().await {
        let frame = match message {
            Message::Text(text) => text.as_bytes().to_vec(),
            Message::Binary(bytes) => bytes.to_vec(),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let work = handle_frame(&state, &frame, EventSink::to(sender));
        let forward = async {
            let mut open = true;
            while let Some(event) = receiver.recv().await {
                // Keep draining after a failed send so the run finishes
                // (and is saved) even when the client left.
                open = open && send(&mut socket, &event).await;
            }
            open
        };
        let ((), open) = tokio::join!(work, forward);
        if !open {
            return;
        }
    }
}

/// The session id and message of a frame, or the error event to answer.
fn parse_frame(frame: &[u8]) -> Result<(String, ChatRequest), StreamEvent> {
    let value: Value = serde_json::from_slice(frame).map_err(|error| {
        StreamEvent::error(&format!("Invalid JSON: {error}"), "invalid_json", true)
    })?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let (Some(session_id), Some(message)) = (field("session_id"), field("message")) else {
        return Err(StreamEvent::error(MISSING_FIELDS, "unknown", true));
    };
    if message.chars().count() > MAX_MESSAGE_CHARS || message.trim().is_empty() {
        return Err(StreamEvent::error(
            &format!(
                "Invalid message: it must hold 1 to {MAX_MESSAGE_CHARS} characters and not be \
                 blank"
            ),
            "validation_error",
            true,
        ));
    }
    Ok((
        session_id,
        ChatRequest {
            message,
            stream: true,
        },
    ))
}

/// Runs one frame, reporting every event (the last one `complete` or
/// `error`) to `events`.
async fn handle_frame(state: &AppState, frame: &[u8], events: EventSink) {
    let (session_id, request) = match parse_frame(frame) {
        Ok(parsed) => parsed,
        Err(event) => return events.emit(event),
    };
    match service::answer(state, &session_id, request, &events).await {
        Ok(Answered {
            misbehaved: true, ..
        }) => events.emit(StreamEvent::error(
            MISBEHAVIOUR_EVENT,
            "model_behavior_error",
            true,
        )),
        Ok(Answered { response, .. }) => {
            if let Some(action) = &response.pending_action {
                events.emit(StreamEvent::approval_required(action));
            }
            events.emit(StreamEvent::complete(
                &response.message,
                response.tokens_used,
                response.tool_calls.len(),
                response.pending_approval,
            ));
        }
        Err(problem) => events.emit(problem_event(&problem)),
    }
}

/// The error event of a failed message.
fn problem_event(problem: &Problem) -> StreamEvent {
    match (problem.status.as_u16(), problem.code.as_str()) {
        (404, _) => StreamEvent::error(&problem.detail, "session_not_found", false),
        (410, "SESSION_CLOSED") => StreamEvent::error(&problem.detail, "session_closed", false),
        (410, _) => StreamEvent::error(&problem.detail, "session_expired", false),
        (502, "AGENT_FALLBACK_EXHAUSTED") => {
            let failures: Vec<ModelFailure> = problem
                .extensions
                .get("failures")
                .cloned()
                .and_then(|failures| serde_json::from_value(failures).ok())
                .unwrap_or_default();
            StreamEvent::fallback_exhausted(&problem.detail, &failures)
        }
        (504, _) => StreamEvent::error(&problem.detail, "timeout", true),
        (_, code) => StreamEvent::error(
            &format!("Stream error: {}", problem.detail),
            &code.to_ascii_lowercase(),
            true,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(frame: &str) -> Value {
        let event = parse_frame(frame.as_bytes()).unwrap_err();
        serde_json::to_value(event).unwrap()["data"].clone()
    }

    #[test]
    fn bad_frames_are_recoverable_error_events() {
        let invalid = error_of("{not json");
        assert!(invalid["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON: "));
        assert_eq!(invalid["recoverable"], true);
        for frame in [
            r#"{"session_id": "abc"}"#,
            r#"{"message": "hi"}"#,
            r#"{"session_id": "", "message": "hi"}"#,
            r#"{"session_id": 7, "message": "hi"}"#,
            "[1, 2]",
        ] {
            let error = error_of(frame);
            assert_eq!(error["error"], MISSING_FIELDS, "{frame}");
            assert_eq!(error["error_type"], "unknown");
        }
        let long = format!(
            r#"{{"session_id": "a", "message": "{}"}}"#,
            "x".repeat(MAX_MESSAGE_CHARS + 1)
        );
        assert_eq!(error_of(&long)["error_type"], "validation_error");
        let (id, request) = parse_frame(br#"{"session_id": "s1", "message": "hi"}"#).unwrap();
        assert_eq!((id.as_str(), request.message.as_str()), ("s1", "hi"));
    }

    #[test]
    fn problems_map_to_error_types() {
        let data = |problem: Problem| {
            serde_json::to_value(problem_event(&problem)).unwrap()["data"].clone()
        };
        let missing = data(Problem::not_found("Session not found: x"));
        assert_eq!(missing["error_type"], "session_not_found");
        assert_eq!(missing["recoverable"], false);
        let failures = vec![ModelFailure {
            model_name: "openai:gpt-4o".into(),
            status_code: Some(429),
            reason: forecastlab_core::ai::FailureReason::QuotaExhausted,
            detail: "slow down".into(),
        }];
        let exhausted = data(service::fallback_exhausted(&failures));
        assert_eq!(exhausted["error_type"], "fallback_exhausted");
        assert_eq!(exhausted["failures"][0]["status_code"], 429);
        assert_eq!(data(service::timed_out(3))["error_type"], "timeout");
        let other = data(Problem::conflict("changed"));
        assert_eq!(other["error"], "Stream error: changed");
    }
}
