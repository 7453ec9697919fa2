//! Events of `WS /agents/stream` (operations-ai spec §5.8) and the sink a
//! run reports them to while it works.
//!
//! Every server frame is `{"event_type", "data", "timestamp"}`. Beyond the
//! upstream, `text_delta` carries only the text added since the previous
//! delta (never the text so far), and every tool call is bracketed by
//! `tool_call_start` and `tool_call_end`.

use chrono::{DateTime, Utc};
use forecastlab_core::ai::ModelFailure;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::schemas::{PendingAction, ToolCallInfo};

/// The text of the `model_behavior_error` event.
pub(crate) const MISBEHAVIOUR_EVENT: &str = "The assistant produced an invalid tool call and \
     couldn't complete the request. Please try rephrasing your message.";

/// The kinds of server frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EventType {
    /// New text from the model.
    TextDelta,
    /// A tool call begins.
    ToolCallStart,
    /// A tool call ended, with its result.
    ToolCallEnd,
    /// A gated action waits for a human decision.
    ApprovalRequired,
    /// The message is answered.
    Complete,
    /// Something went wrong.
    Error,
}

/// One server frame.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StreamEvent {
    pub(crate) event_type: EventType,
    pub(crate) data: Value,
    pub(crate) timestamp: DateTime<Utc>,
}

impl StreamEvent {
    fn new(event_type: EventType, data: Value) -> StreamEvent {
        StreamEvent {
            event_type,
            data,
            timestamp: Utc::now(),
        }
    }

    /// `text_delta {delta}`.
    pub(crate) fn text_delta(delta: &str) -> StreamEvent {
        StreamEvent::new(EventType::TextDelta, json!({ "delta": delta }))
    }

    /// `tool_call_start {tool_name, tool_call_id, arguments}`.
    pub(crate) fn tool_call_start(name: &str, id: &str, arguments: &Value) -> StreamEvent {
        StreamEvent::new(
            EventType::ToolCallStart,
            json!({"tool_name": name, "tool_call_id": id, "arguments": arguments}),
        )
    }

    /// `tool_call_end {tool_name, tool_call_id, result, duration_ms}`.
    pub(crate) fn tool_call_end(call: &ToolCallInfo) -> StreamEvent {
        StreamEvent::new(
            EventType::ToolCallEnd,
            json!({
                "tool_name": call.tool_name,
                "tool_call_id": call.tool_call_id,
                "result": call.result,
                "duration_ms": call.duration_ms,
            }),
        )
    }

    /// `approval_required {action, message}`.
    pub(crate) fn approval_required(action: &PendingAction) -> StreamEvent {
        StreamEvent::new(
            EventType::ApprovalRequired,
            json!({"action": action, "message": "Human approval required before proceeding."}),
        )
    }

    /// `complete {message, tokens_used, tool_calls_count, pending_approval}`.
    pub(crate) fn complete(
        message: &str,
        tokens_used: i64,
        tool_calls_count: usize,
        pending_approval: bool,
    ) -> StreamEvent {
        StreamEvent::new(
            EventType::Complete,
            json!({
                "message": message,
                "tokens_used": tokens_used,
                "tool_calls_count": tool_calls_count,
                "pending_approval": pending_approval,
            }),
        )
    }

    /// `error {error, error_type, recoverable}`.
    pub(crate) fn error(error: &str, error_type: &str, recoverable: bool) -> StreamEvent {
        StreamEvent::new(
            EventType::Error,
            json!({"error": error, "error_type": error_type, "recoverable": recoverable}),
        )
    }

    /// `error` of type `fallback_exhausted`, with the classified failures.
    pub(crate) fn fallback_exhausted(summary: &str, failures: &[ModelFailure]) -> StreamEvent {
        StreamEvent::new(
            EventType::Error,
            json!({
                "error": summary,
                "error_type": "fallback_exhausted",
                "recoverable": true,
                "failures": failures,
            }),
        )
    }
}

/// Where a streaming run reports its events; `None` for a REST run.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventSink(Option<UnboundedSender<StreamEvent>>);

impl EventSink {
    /// A sink sending to `sender`.
    pub(crate) fn to(sender: UnboundedSender<StreamEvent>) -> EventSink {
        EventSink(Some(sender))
    }

    /// Whether anyone listens (the run then streams its model turns).
    pub(crate) fn is_streaming(&self) -> bool {
        self.0.is_some()
    }

    /// Sends `event` (a listener that went away is ignored: the run goes
    /// on and is saved).
    pub(crate) fn emit(&self, event: StreamEvent) {
        if let Some(sender) = &self.0 {
            let _ = sender.send(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_type_data_and_timestamp() {
        let frame = serde_json::to_value(StreamEvent::text_delta("Hel")).unwrap();
        assert_eq!(frame["event_type"], "text_delta");
        assert_eq!(frame["data"], json!({"delta": "Hel"}));
        assert!(chrono::DateTime::parse_from_rfc3339(frame["timestamp"].as_str().unwrap()).is_ok());
        let error = serde_json::to_value(StreamEvent::error("x", "unknown", true)).unwrap();
        assert_eq!(error["event_type"], "error");
        assert_eq!(error["data"]["recoverable"], true);
    }

    #[test]
    fn a_sink_without_listener_drops_events() {
        let sink = EventSink::default();
        assert!(!sink.is_streaming());
        sink.emit(StreamEvent::text_delta("x"));
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let sink = EventSink::to(sender);
        assert!(sink.is_streaming());
        sink.emit(StreamEvent::complete("done", 3, 0, false));
        assert_eq!(receiver.try_recv().unwrap().event_type, EventType::Complete);
    }
}
