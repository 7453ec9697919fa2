//! Decoding a streamed turn: each `data:` event is a whole
//! `GenerateContentResponse` carrying the next parts; the stream ends after
//! the chunk with a `finishReason`.

use forecastlab_core::ai::stream::done;
use forecastlab_core::ai::{FinishReason, LlmError, LlmEvent, ToolCallAssembler, Usage};
use forecastlab_llm_http::{SseDecoder, SseEvent};

use crate::wire::{finish_reason, GenerateContentResponse};

/// The state of one streamed turn.
#[derive(Debug, Default)]
pub(crate) struct ChunkDecoder {
    calls: ToolCallAssembler,
    usage: Usage,
    finish_reason: Option<FinishReason>,
}

impl SseDecoder for ChunkDecoder {
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<LlmEvent>, LlmError> {
        if event.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let chunk: GenerateContentResponse =
            serde_json::from_str(&event.data).map_err(|error| {
                LlmError::invalid_response(&format!("undecodable stream chunk: {error}"))
            })?;
        chunk.check_prompt()?;
        if let Some(usage) = chunk.usage_metadata {
            // Each chunk reports the totals so far.
            self.usage = usage.into();
        }
        let mut events = Vec::new();
        let Some(candidate) = chunk.candidates.into_iter().next() else {
            return Ok(events);
        };
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            if let Some(call) = part.function_call {
                let call = call.into_call(part.thought_signature)?;
                let index = self.calls.started();
                events.push(self.calls.start(index, call.id, call.name));
                events.push(self.calls.push(index, &call.arguments.to_string())?);
                if let Some(signature) = call.signature {
                    self.calls.sign(index, signature);
                }
                events.push(self.calls.finish(index)?);
            } else if let Some(text) = part.text.filter(|t| !part.thought && !t.is_empty()) {
                events.push(LlmEvent::TextDelta { text });
            }
        }
        if let Some(reason) = candidate.finish_reason {
            self.finish_reason = Some(finish_reason(
                Some(&reason),
                candidate.finish_message.as_deref(),
                self.calls.started() > 0,
            )?);
        }
        Ok(events)
    }

    /// Gemini marks the end only with the last chunk's `finishReason`.
    fn finish(&mut self) -> Result<Vec<LlmEvent>, LlmError> {
        match self.finish_reason {
            Some(reason) => Ok(vec![done(self.usage, reason)]),
            None => Err(LlmError::connection(
                "the provider closed the stream before the response was complete",
                &Default::default(),
            )),
        }
    }
}
