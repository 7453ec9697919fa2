//! The Messages wire format: the request body and the JSON answer.

use forecastlab_core::ai::{
    ChatMessage, ChatRequest, ChatResponse, ChatRole, FinishReason, LlmError, ToolCall, Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/messages` body.
#[derive(Debug, Serialize)]
pub(crate) struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    temperature: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

/// One turn: a role and its content blocks.
#[derive(Debug, Serialize)]
struct Turn<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

/// A content block of the request.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
    },
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a Value,
}

impl<'a> MessagesRequest<'a> {
    pub(crate) fn new(model: &'a str, request: &'a ChatRequest, stream: bool) -> Self {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|message| message.role == ChatRole::System)
            .map(|message| message.content.as_str())
            .collect();
        MessagesRequest {
            model,
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            messages: turns(&request.messages),
            tools: request
                .tools
                .iter()
                .map(|tool| Tool {
                    name: &tool.name,
                    description: &tool.description,
                    input_schema: &tool.parameters,
                })
                .collect(),
            stream,
        }
    }
}

/// The conversation as alternating user / assistant turns: tool results
/// are user content, consecutive messages of one role share a turn, empty
/// text is left out (the API refuses empty text blocks).
fn turns(messages: &[ChatMessage]) -> Vec<Turn<'_>> {
    let mut turns: Vec<Turn<'_>> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            ChatRole::System => continue,
            ChatRole::User => ("user", text_block(&message.content)),
            ChatRole::Tool => (
                "user",
                vec![Block::ToolResult {
                    tool_use_id: message.tool_call_id.as_deref().unwrap_or_default(),
                    content: &message.content,
                }],
            ),
            ChatRole::Assistant => {
                let mut blocks = text_block(&message.content);
                blocks.extend(message.tool_calls.iter().map(|call| Block::ToolUse {
                    id: &call.id,
                    name: &call.name,
                    input: &call.arguments,
                }));
                ("assistant", blocks)
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => turns.push(Turn {
                role,
                content: blocks,
            }),
        }
    }
    turns
}

fn text_block(text: &str) -> Vec<Block<'_>> {
    if text.trim().is_empty() {
        Vec::new()
    } else {
        vec![Block::Text { text }]
    }
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) input_tokens: Option<u32>,
    #[serde(default)]
    pub(crate) output_tokens: Option<u32>,
}

/// The JSON answer of a turn.
#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    content: Vec<AnswerBlock>,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

/// A content block of the answer; kinds this backend does not use
/// (thinking, server tools) are skipped.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnswerBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    #[serde(other)]
    Other,
}

impl Message {
    /// The turn this answer describes.
    pub(crate) fn into_response(self) -> Result<ChatResponse, LlmError> {
        let finish_reason = stop_reason(self.stop_reason.as_deref())?;
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in self.content {
            match block {
                AnswerBlock::Text { text: piece } => text.push_str(&piece),
                AnswerBlock::ToolUse { id, name, input } => {
                    if !input.is_object() {
                        return Err(LlmError::invalid_tool_call(
                            &name,
                            "the input is not a JSON object",
                        ));
                    }
                    tool_calls.push(ToolCall {
                        id,
                        name,
                        arguments: input,
                        signature: None,
                    });
                }
                AnswerBlock::Other => {}
            }
        }
        Ok(ChatResponse {
            message: ChatMessage::assistant(text, tool_calls),
            usage: Usage {
                input_tokens: self.usage.input_tokens.unwrap_or_default(),
                output_tokens: self.usage.output_tokens.unwrap_or_default(),
            },
            finish_reason,
        })
    }
}

/// Maps a `stop_reason`; `refusal` is a rejected response.
pub(crate) fn stop_reason(reason: Option<&str>) -> Result<FinishReason, LlmError> {
    Ok(match reason {
        None | Some("end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("refusal") => {
            return Err(LlmError::rejected(
                "the model declined to answer (stop_reason: refusal)",
            ))
        }
        Some(_) => FinishReason::Other,
    })
}
