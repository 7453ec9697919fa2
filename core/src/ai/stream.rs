//! Building blocks for streamed turns: assembling tool calls from argument
//! fragments, and folding a stream back into one [`ChatResponse`].

use std::collections::BTreeMap;

use futures::StreamExt;

use super::failure::LlmError;
use super::llm::{ChatMessage, ChatResponse, FinishReason, LlmEvent, LlmStream, ToolCall, Usage};

/// Parses a tool call's arguments. Empty text (providers send it for tools
/// without parameters) is `{}`; anything that is not a JSON object is an
/// [`LlmError::invalid_tool_call`].
pub fn parse_tool_arguments(tool_name: &str, raw: &str) -> Result<serde_json::Value, LlmError> {
    if raw.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err(LlmError::invalid_tool_call(
            tool_name,
            "the arguments are not a JSON object",
        )),
        Err(error) => Err(LlmError::invalid_tool_call(
            tool_name,
            &format!("malformed JSON ({error})"),
        )),
    }
}

/// Tool calls whose arguments are still arriving.
#[derive(Debug)]
struct OpenCall {
    id: String,
    name: String,
    arguments: String,
    signature: Option<String>,
}

/// Collects streamed tool calls by index and turns them into
/// [`LlmEvent`]s: `start` → [`LlmEvent::ToolCallStart`], `push` →
/// [`LlmEvent::ToolCallDelta`], `finish` → [`LlmEvent::ToolCallEnd`] with
/// the parsed arguments.
#[derive(Debug, Default)]
pub struct ToolCallAssembler {
    open: BTreeMap<usize, OpenCall>,
    /// How many calls were started this turn.
    started: usize,
}

impl ToolCallAssembler {
    /// A call starts at `index`.
    pub fn start(&mut self, index: usize, id: String, name: String) -> LlmEvent {
        self.started += 1;
        self.open.insert(
            index,
            OpenCall {
                id: id.clone(),
                name: name.clone(),
                arguments: String::new(),
                signature: None,
            },
        );
        LlmEvent::ToolCallStart { index, id, name }
    }

    /// Whether the call at `index` has started and not finished.
    pub fn is_open(&self, index: usize) -> bool {
        self.open.contains_key(&index)
    }

    /// How many calls were started so far.
    pub fn started(&self) -> usize {
        self.started
    }

    /// Appends an arguments fragment to the call at `index`.
    pub fn push(&mut self, index: usize, fragment: &str) -> Result<LlmEvent, LlmError> {
        let call = self.open.get_mut(&index).ok_or_else(|| {
            LlmError::invalid_response(&format!(
                "arguments for tool call {index}, which was never started"
            ))
        })?;
        call.arguments.push_str(fragment);
        Ok(LlmEvent::ToolCallDelta {
            index,
            arguments: fragment.to_owned(),
        })
    }

    /// Attaches the provider's opaque token to the call at `index`.
    pub fn sign(&mut self, index: usize, signature: String) {
        if let Some(call) = self.open.get_mut(&index) {
            call.signature = Some(signature);
        }
    }

    /// Completes the call at `index`, parsing its arguments.
    pub fn finish(&mut self, index: usize) -> Result<LlmEvent, LlmError> {
        let call = self.open.remove(&index).ok_or_else(|| {
            LlmError::invalid_response(&format!("tool call {index} ended but never started"))
        })?;
        let arguments = parse_tool_arguments(&call.name, &call.arguments)?;
        Ok(LlmEvent::ToolCallEnd {
            index,
            call: ToolCall {
                id: call.id,
                name: call.name,
                arguments,
                signature: call.signature,
            },
        })
    }

    /// Completes every open call, in index order.
    pub fn finish_all(&mut self) -> Result<Vec<LlmEvent>, LlmError> {
        let indices: Vec<usize> = self.open.keys().copied().collect();
        indices
            .into_iter()
            .map(|index| self.finish(index))
            .collect()
    }
}

/// Runs a stream to its end and returns the turn it describes: the text
/// deltas joined, the completed tool calls in index order, the usage and
/// finish reason of `Done`. The first error ends it.
pub async fn collect_stream(mut stream: LlmStream) -> Result<ChatResponse, LlmError> {
    let mut text = String::new();
    let mut calls: BTreeMap<usize, ToolCall> = BTreeMap::new();
    while let Some(event) = stream.next().await {
        match event? {
            LlmEvent::TextDelta { text: piece } => text.push_str(&piece),
            LlmEvent::ToolCallEnd { index, call } => {
                calls.insert(index, call);
            }
            LlmEvent::ToolCallStart { .. } | LlmEvent::ToolCallDelta { .. } => {}
            LlmEvent::Done {
                usage,
                finish_reason,
            } => {
                return Ok(ChatResponse {
                    message: ChatMessage::assistant(text, calls.into_values().collect()),
                    usage,
                    finish_reason,
                })
            }
        }
    }
    Err(LlmError::invalid_response(
        "the stream ended without a final event",
    ))
}

/// A `Done` event, for backends assembling one.
pub fn done(usage: Usage, finish_reason: FinishReason) -> LlmEvent {
    LlmEvent::Done {
        usage,
        finish_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::failure::LlmErrorKind;
    use serde_json::json;

    #[test]
    fn arguments_split_across_fragments_are_joined() {
        let mut assembler = ToolCallAssembler::default();
        assembler.start(0, "call_1".into(), "get_run".into());
        for piece in [r#"{"run_"#, r#"id": "ab"#, r#"c"}"#] {
            assembler.push(0, piece).unwrap();
        }
        let LlmEvent::ToolCallEnd { call, .. } = assembler.finish(0).unwrap() else {
            panic!("expected the end of the call");
        };
        assert_eq!(call.arguments, json!({"run_id": "abc"}));
        assert_eq!(call.id, "call_1");
        assert!(!assembler.is_open(0));
    }

    #[test]
    fn empty_arguments_are_an_empty_object() {
        assert_eq!(parse_tool_arguments("t", "  ").unwrap(), json!({}));
    }

    #[test]
    fn malformed_or_non_object_arguments_are_invalid_tool_calls() {
        for raw in [r#"{"run_id": "abc""#, "[1, 2]", "nope"] {
            let error = parse_tool_arguments("get_run", raw).unwrap_err();
            assert_eq!(error.kind(), LlmErrorKind::InvalidToolCall, "{raw}");
        }
    }

    #[test]
    fn fragments_for_unknown_calls_are_invalid_responses() {
        let mut assembler = ToolCallAssembler::default();
        assert_eq!(
            assembler.push(3, "{}").unwrap_err().kind(),
            LlmErrorKind::InvalidResponse
        );
        assert_eq!(
            assembler.finish(3).unwrap_err().kind(),
            LlmErrorKind::InvalidResponse
        );
    }

    #[tokio::test]
    async fn a_stream_collects_into_one_response() {
        let mut assembler = ToolCallAssembler::default();
        let mut events = vec![
            LlmEvent::TextDelta {
                text: "Let me ".into(),
            },
            LlmEvent::TextDelta {
                text: "check.".into(),
            },
            assembler.start(1, "b".into(), "second".into()),
            assembler.start(0, "a".into(), "first".into()),
            assembler.push(0, r#"{"x":1}"#).unwrap(),
        ];
        events.extend(assembler.finish_all().unwrap());
        events.push(done(
            Usage {
                input_tokens: 3,
                output_tokens: 4,
            },
            FinishReason::ToolCalls,
        ));
        let stream = futures::stream::iter(events.into_iter().map(Ok)).boxed();
        let response = collect_stream(stream).await.unwrap();
        assert_eq!(response.message.content, "Let me check.");
        let names: Vec<_> = response
            .message
            .tool_calls
            .iter()
            .map(|c| &c.name)
            .collect();
        assert_eq!(names, ["first", "second"]);
        assert_eq!(response.message.tool_calls[1].arguments, json!({}));
        assert_eq!(response.usage.total(), 7);
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    }

    #[tokio::test]
    async fn a_stream_without_done_is_an_error() {
        let stream = futures::stream::iter([Ok(LlmEvent::TextDelta { text: "x".into() })]).boxed();
        let error = collect_stream(stream).await.unwrap_err();
        assert_eq!(error.kind(), LlmErrorKind::InvalidResponse);
    }
}
