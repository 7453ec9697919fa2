//! The Chat Completions wire format: the request body and the JSON answer.

use forecastlab_core::ai::{
    parse_tool_arguments, ChatMessage, ChatRequest, ChatResponse, ChatRole, FinishReason, LlmError,
    ToolCall, ToolSpec, Usage,
};
use serde::{Deserialize, Serialize};

/// Which request field carries the output limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens` (OpenAI; required by its reasoning models).
    MaxCompletionTokens,
    /// `max_tokens` (the field OpenAI-compatible servers know).
    MaxTokens,
}

/// `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub(crate) struct ChatCompletionRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    temperature: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

/// Asks for the usage chunk at the end of a stream.
#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

impl<'a> ChatCompletionRequest<'a> {
    pub(crate) fn new(
        model: &'a str,
        request: &'a ChatRequest,
        max_tokens_field: MaxTokensField,
        stream: bool,
    ) -> ChatCompletionRequest<'a> {
        let limit = Some(request.max_tokens);
        let (max_completion_tokens, max_tokens) = match max_tokens_field {
            MaxTokensField::MaxCompletionTokens => (limit, None),
            MaxTokensField::MaxTokens => (None, limit),
        };
        ChatCompletionRequest {
            model,
            messages: request.messages.iter().map(WireMessage::from).collect(),
            tools: request.tools.iter().map(WireTool::from).collect(),
            temperature: request.temperature,
            max_completion_tokens,
            max_tokens,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
        }
    }
}

/// One message of the request.
#[derive(Debug, Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    /// `null` for an assistant message that only calls tools.
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

impl<'a> From<&'a ChatMessage> for WireMessage<'a> {
    fn from(message: &'a ChatMessage) -> Self {
        let role = match message.role {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
            ChatRole::Tool => "tool",
        };
        let calls_only = message.role == ChatRole::Assistant
            && message.content.is_empty()
            && !message.tool_calls.is_empty();
        WireMessage {
            role,
            content: (!calls_only).then_some(message.content.as_str()),
            tool_calls: message.tool_calls.iter().map(WireToolCall::from).collect(),
            tool_call_id: message.tool_call_id.as_deref(),
        }
    }
}

/// A tool call the assistant made, as sent back in later turns.
#[derive(Debug, Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    /// The arguments as JSON text.
    arguments: String,
}

impl<'a> From<&'a ToolCall> for WireToolCall<'a> {
    fn from(call: &'a ToolCall) -> Self {
        WireToolCall {
            id: &call.id,
            r#type: "function",
            function: WireFunctionCall {
                name: &call.name,
                arguments: call.arguments.to_string(),
            },
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
}

impl<'a> From<&'a ToolSpec> for WireTool<'a> {
    fn from(tool: &'a ToolSpec) -> Self {
        WireTool {
            r#type: "function",
            function: WireFunction {
                name: &tool.name,
                description: &tool.description,
                parameters: &tool.parameters,
            },
        }
    }
}

/// Token counts of a turn.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
        }
    }
}

/// The JSON answer of a turn.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatCompletion {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: AnswerMessage,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AnswerMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<AnswerToolCall>,
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AnswerToolCall {
    id: String,
    function: AnswerFunction,
}

#[derive(Debug, Deserialize)]
struct AnswerFunction {
    name: String,
    /// JSON text per the spec; some compatible servers send an object.
    #[serde(default)]
    arguments: serde_json::Value,
}

impl ChatCompletion {
    /// The turn this answer describes.
    pub(crate) fn into_response(self) -> Result<ChatResponse, LlmError> {
        let choice = self
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| LlmError::invalid_response("the answer has no choices"))?;
        if let Some(refusal) = choice.message.refusal.filter(|text| !text.is_empty()) {
            return Err(LlmError::rejected(&refusal));
        }
        let finish_reason = finish_reason(choice.finish_reason.as_deref())?;
        let tool_calls = choice
            .message
            .tool_calls
            .into_iter()
            .map(|call| {
                let arguments = match call.function.arguments {
                    serde_json::Value::String(text) => {
                        parse_tool_arguments(&call.function.name, &text)?
                    }
                    serde_json::Value::Null => parse_tool_arguments(&call.function.name, "")?,
                    other => parse_tool_arguments(&call.function.name, &other.to_string())?,
                };
                Ok(ToolCall {
                    id: call.id,
                    name: call.function.name,
                    arguments,
                    signature: None,
                })
            })
            .collect::<Result<Vec<_>, LlmError>>()?;
        Ok(ChatResponse {
            message: ChatMessage::assistant(choice.message.content.unwrap_or_default(), tool_calls),
            usage: self.usage.map(Usage::from).unwrap_or_default(),
            finish_reason,
        })
    }
}

/// Maps a `finish_reason`; `content_filter` is a refusal.
pub(crate) fn finish_reason(reason: Option<&str>) -> Result<FinishReason, LlmError> {
    Ok(match reason {
        None | Some("stop") => FinishReason::Stop,
        Some("tool_calls" | "function_call") => FinishReason::ToolCalls,
        Some("length") => FinishReason::Length,
        Some("content_filter") => {
            return Err(LlmError::rejected(
                "the provider's content filter withheld the answer",
            ))
        }
        Some(_) => FinishReason::Other,
    })
}
