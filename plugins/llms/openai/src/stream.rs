//! Decoding a streamed turn: `data: {chunk}` events, then `data: [DONE]`.

use forecastlab_core::ai::stream::done;
use forecastlab_core::ai::{
    FinishReason, LlmError, LlmEvent, SecretScrubber, ToolCallAssembler, Usage,
};
use forecastlab_llm_http::{SseDecoder, SseEvent};
use serde::Deserialize;

use crate::wire::{finish_reason, WireUsage};

/// One `chat.completion.chunk`.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
    /// Some servers report a failure mid-stream as an error object.
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<DeltaToolCall>,
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DeltaToolCall {
    index: Option<usize>,
    id: Option<String>,
    function: Option<DeltaFunction>,
}

#[derive(Debug, Deserialize)]
struct DeltaFunction {
    name: Option<String>,
    arguments: Option<String>,
}

/// The state of one streamed turn.
#[derive(Debug)]
pub(crate) struct ChunkDecoder {
    calls: ToolCallAssembler,
    usage: Usage,
    finish_reason: Option<FinishReason>,
    refusal: String,
    scrubber: SecretScrubber,
}

impl ChunkDecoder {
    pub(crate) fn new(scrubber: SecretScrubber) -> ChunkDecoder {
        ChunkDecoder {
            calls: ToolCallAssembler::default(),
            usage: Usage::default(),
            finish_reason: None,
            refusal: String::new(),
            scrubber,
        }
    }

    /// Events for one streamed tool-call piece. Pieces without an index
    /// (some compatible servers) start a new call when they carry an id and
    /// continue the latest call otherwise.
    fn tool_call(&mut self, call: DeltaToolCall) -> Result<Vec<LlmEvent>, LlmError> {
        let started = self.calls.started();
        let index = match (call.index, &call.id) {
            (Some(index), _) => index,
            (None, Some(_)) => started,
            (None, None) => started.saturating_sub(1),
        };
        let (name, arguments) = match call.function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        let mut events = Vec::new();
        if !self.calls.is_open(index) {
            let name = name.filter(|name| !name.is_empty()).ok_or_else(|| {
                LlmError::invalid_response("a streamed tool call started without a name")
            })?;
            let id = call.id.unwrap_or_else(|| format!("call_{started}"));
            events.push(self.calls.start(index, id, name));
        }
        if let Some(fragment) = arguments.filter(|fragment| !fragment.is_empty()) {
            events.push(self.calls.push(index, &fragment)?);
        }
        Ok(events)
    }

    /// The final events: open calls completed, then `Done`.
    fn done(&mut self) -> Result<Vec<LlmEvent>, LlmError> {
        let mut events = self.calls.finish_all()?;
        let reason = match self.finish_reason {
            Some(reason) => reason,
            None if self.calls.started() > 0 => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        events.push(done(self.usage, reason));
        Ok(events)
    }
}

impl SseDecoder for ChunkDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<LlmEvent>, LlmError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return self.done();
        }
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|error| {
            LlmError::invalid_response(&format!("undecodable stream chunk: {error}"))
        })?;
        if let Some(error) = chunk.error {
            return Err(LlmError::provider(
                &serde_json::json!({ "error": error }).to_string(),
                &self.scrubber,
            ));
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage.into();
        }
        let mut events = Vec::new();
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content.filter(|text| !text.is_empty()) {
                events.push(LlmEvent::TextDelta { text });
            }
            if let Some(refusal) = choice.delta.refusal {
                self.refusal.push_str(&refusal);
            }
            for call in choice.delta.tool_calls {
                events.extend(self.tool_call(call)?);
            }
            if let Some(reason) = choice.finish_reason {
                if !self.refusal.is_empty() {
                    return Err(LlmError::rejected(&self.refusal));
                }
                self.finish_reason = Some(finish_reason(Some(&reason))?);
                events.extend(self.calls.finish_all()?);
            }
        }
        Ok(events)
    }

    /// Servers that close without `[DONE]` after a finish reason still
    /// delivered a whole turn.
    fn finish(&mut self) -> Result<Vec<LlmEvent>, LlmError> {
        if self.finish_reason.is_some() {
            return self.done();
        }
        Err(LlmError::connection(
            "the provider closed the stream before the response was complete",
            &self.scrubber,
        ))
    }
}
