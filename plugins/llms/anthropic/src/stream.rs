//! Decoding a streamed turn: `message_start`, content blocks with their
//! deltas, `message_delta`, `message_stop` (and `ping`, `error`).

use std::collections::HashMap;

use forecastlab_core::ai::stream::done;
use forecastlab_core::ai::{
    FinishReason, LlmError, LlmEvent, SecretScrubber, ToolCallAssembler, Usage,
};
use forecastlab_llm_http::{SseDecoder, SseEvent};
use serde::Deserialize;
use serde_json::Value;

use crate::wire::{stop_reason, WireUsage};

/// The events of the stream, by their `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: StartedBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDelta,
        #[serde(default)]
        usage: WireUsage,
    },
    MessageStop,
    Ping,
    Error {
        error: Value,
    },
}

#[derive(Debug, Deserialize)]
struct StartedMessage {
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartedBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

/// The state of one streamed turn.
#[derive(Debug)]
pub(crate) struct EventDecoder {
    calls: ToolCallAssembler,
    /// Content block index → tool-call index, for tool-use blocks.
    tool_blocks: HashMap<usize, usize>,
    usage: Usage,
    finish_reason: FinishReason,
    scrubber: SecretScrubber,
}

impl EventDecoder {
    pub(crate) fn new(scrubber: SecretScrubber) -> EventDecoder {
        EventDecoder {
            calls: ToolCallAssembler::default(),
            tool_blocks: HashMap::new(),
            usage: Usage::default(),
            finish_reason: FinishReason::Stop,
            scrubber,
        }
    }

    fn record_usage(&mut self, usage: WireUsage) {
        if let Some(input) = usage.input_tokens {
            self.usage.input_tokens = input;
        }
        if let Some(output) = usage.output_tokens {
            self.usage.output_tokens = output;
        }
    }

    fn tool_index(&self, block: usize) -> Result<usize, LlmError> {
        self.tool_blocks.get(&block).copied().ok_or_else(|| {
            LlmError::invalid_response(&format!(
                "input for block {block}, which is not a tool call"
            ))
        })
    }
}

impl SseDecoder for EventDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<LlmEvent>, LlmError> {
        let parsed: StreamEvent = match serde_json::from_str(&event.data) {
            Ok(parsed) => parsed,
            // Event types added to the API later are skipped.
            Err(_) if is_unknown_type(&event.data) => return Ok(Vec::new()),
            Err(error) => {
                return Err(LlmError::invalid_response(&format!(
                    "undecodable stream event: {error}"
                )))
            }
        };
        Ok(match parsed {
            StreamEvent::MessageStart { message } => {
                self.record_usage(message.usage);
                Vec::new()
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                StartedBlock::Text { text } if !text.is_empty() => {
                    vec![LlmEvent::TextDelta { text }]
                }
                StartedBlock::ToolUse { id, name } => {
                    let call = self.calls.started();
                    self.tool_blocks.insert(index, call);
                    vec![self.calls.start(call, id, name)]
                }
                _ => Vec::new(),
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } if !text.is_empty() => {
                    vec![LlmEvent::TextDelta { text }]
                }
                BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    vec![self.calls.push(self.tool_index(index)?, &partial_json)?]
                }
                _ => Vec::new(),
            },
            StreamEvent::ContentBlockStop { index } => match self.tool_blocks.get(&index) {
                Some(&call) => vec![self.calls.finish(call)?],
                None => Vec::new(),
            },
            StreamEvent::MessageDelta { delta, usage } => {
                self.record_usage(usage);
                self.finish_reason = stop_reason(delta.stop_reason.as_deref())?;
                Vec::new()
            }
            StreamEvent::MessageStop => {
                let mut events = self.calls.finish_all()?;
                events.push(done(self.usage, self.finish_reason));
                events
            }
            StreamEvent::Ping => Vec::new(),
            StreamEvent::Error { error } => return Err(stream_error(&error, &self.scrubber)),
        })
    }
}

/// Whether `data` is a well-formed event of a type this decoder does not
/// know.
fn is_unknown_type(data: &str) -> bool {
    const KNOWN: [&str; 8] = [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    ];
    serde_json::from_str::<Value>(data)
        .ok()
        .and_then(|value| value["type"].as_str().map(str::to_owned))
        .is_some_and(|kind| !KNOWN.contains(&kind.as_str()))
}

/// An `error` event: classified by the HTTP status its error type stands
/// for (an overloaded API mid-stream is as unavailable as a 529).
fn stream_error(error: &Value, scrubber: &SecretScrubber) -> LlmError {
    let status = match error["type"].as_str() {
        Some("invalid_request_error") => Some(400),
        Some("authentication_error") => Some(401),
        Some("permission_error") => Some(403),
        Some("not_found_error") => Some(404),
        Some("request_too_large") => Some(413),
        Some("rate_limit_error") => Some(429),
        Some("api_error") => Some(500),
        Some("timeout_error") => Some(504),
        Some("overloaded_error") => Some(529),
        _ => None,
    };
    let body = serde_json::json!({ "error": error }).to_string();
    match status {
        Some(status) => LlmError::from_status(status, &body, scrubber),
        None => LlmError::provider(&body, scrubber),
    }
}
