//! Each protocol's rendering of a scripted reply (as one JSON answer or as
//! server-sent events) and of an error envelope.

mod anthropic;
mod gemini;
mod openai;

use serde_json::Value;

use crate::protocol::Protocol;
use crate::script::Reply;

/// Renders replies and errors in one protocol's wire format.
pub(crate) struct Renderer<'a> {
    pub(crate) protocol: Protocol,
    /// The model the request named, echoed back.
    pub(crate) model: &'a str,
    /// The request body (for options such as `stream_options`).
    pub(crate) request: &'a Value,
}

impl Renderer<'_> {
    /// The whole reply as one JSON answer.
    pub(crate) fn reply_json(&self, reply: &Reply) -> Value {
        match self.protocol {
            Protocol::OpenAi | Protocol::Ollama => openai::reply_json(self.model, reply),
            Protocol::Anthropic => anthropic::reply_json(self.model, reply),
            Protocol::Gemini => gemini::reply_json(self.model, reply),
        }
    }

    /// The reply as complete server-sent-event frames, in order.
    pub(crate) fn reply_events(&self, reply: &Reply) -> Vec<String> {
        match self.protocol {
            Protocol::OpenAi | Protocol::Ollama => {
                let usage = self.request["stream_options"]["include_usage"]
                    .as_bool()
                    .unwrap_or(false);
                openai::reply_events(self.model, reply, usage)
            }
            Protocol::Anthropic => anthropic::reply_events(self.model, reply),
            Protocol::Gemini => gemini::reply_events(self.model, reply),
        }
    }
}

/// The protocol's error body for `status` around `message`.
pub(crate) fn error_body(protocol: Protocol, status: u16, message: &str) -> Value {
    match protocol {
        Protocol::OpenAi | Protocol::Ollama => openai::error_body(status, message),
        Protocol::Anthropic => anthropic::error_body(status, message),
        Protocol::Gemini => gemini::error_body(status, message),
    }
}

/// A `data:` frame.
fn data_frame(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// The scripted arguments as a JSON value: the parsed object when they are
/// valid JSON, else `None`.
fn parsed_arguments(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok()
}
