//! The Gemini wire format: the request body and the answer (one JSON
//! answer, or one chunk of a stream).

use std::collections::HashMap;

use forecastlab_core::ai::{
    ChatMessage, ChatRequest, ChatResponse, ChatRole, FinishReason, LlmError, ToolCall, Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::next_call_id;

/// `generateContent` / `streamGenerateContent` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentRequest<'a> {
    contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tools<'a>>,
    generation_config: GenerationConfig,
}

#[derive(Debug, Serialize)]
struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    parts: Vec<Part<'a>>,
}

/// A request part: text, a function call of the model, or a function's
/// response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_call: Option<FunctionCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_response: Option<FunctionResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<&'a str>,
}

impl<'a> Part<'a> {
    fn text(text: &'a str) -> Part<'a> {
        Part {
            text: Some(text),
            function_call: None,
            function_response: None,
            thought_signature: None,
        }
    }
}

#[derive(Debug, Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    args: &'a Value,
}

#[derive(Debug, Serialize)]
struct FunctionResponse<'a> {
    name: &'a str,
    response: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tools<'a> {
    function_declarations: Vec<FunctionDeclaration<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionDeclaration<'a> {
    name: &'a str,
    description: &'a str,
    parameters_json_schema: &'a Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    temperature: f32,
    max_output_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_config: Option<ThinkingConfig>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ThinkingConfig {
    thinking_budget: u32,
}

impl<'a> GenerateContentRequest<'a> {
    pub(crate) fn new(request: &'a ChatRequest) -> Self {
        let system: Vec<Part<'a>> = request
            .messages
            .iter()
            .filter(|message| message.role == ChatRole::System)
            .map(|message| Part::text(&message.content))
            .collect();
        let declarations: Vec<FunctionDeclaration<'a>> = request
            .tools
            .iter()
            .map(|tool| FunctionDeclaration {
                name: &tool.name,
                description: &tool.description,
                parameters_json_schema: &tool.parameters,
            })
            .collect();
        GenerateContentRequest {
            contents: contents(&request.messages),
            system_instruction: (!system.is_empty()).then_some(Content {
                role: None,
                parts: system,
            }),
            tools: if declarations.is_empty() {
                Vec::new()
            } else {
                vec![Tools {
                    function_declarations: declarations,
                }]
            },
            generation_config: GenerationConfig {
                temperature: request.temperature,
                max_output_tokens: request.max_tokens,
                thinking_config: request
                    .thinking_budget
                    .map(|thinking_budget| ThinkingConfig { thinking_budget }),
            },
        }
    }
}

/// The conversation as `user` / `model` contents: tool results are
/// `functionResponse` parts of a user content (named after the call they
/// answer), consecutive messages of one role share a content.
fn contents(messages: &[ChatMessage]) -> Vec<Content<'_>> {
    let call_names: HashMap<&str, &str> = messages
        .iter()
        .flat_map(|message| &message.tool_calls)
        .map(|call| (call.id.as_str(), call.name.as_str()))
        .collect();
    let mut contents: Vec<Content<'_>> = Vec::new();
    for message in messages {
        let (role, parts) = match message.role {
            ChatRole::System => continue,
            ChatRole::User => ("user", text_part(&message.content)),
            ChatRole::Tool => {
                let id = message.tool_call_id.as_deref().unwrap_or_default();
                let part = Part {
                    text: None,
                    function_call: None,
                    function_response: Some(FunctionResponse {
                        name: call_names.get(id).copied().unwrap_or(id),
                        response: response_object(&message.content),
                    }),
                    thought_signature: None,
                };
                ("user", vec![part])
            }
            ChatRole::Assistant => {
                let mut parts = text_part(&message.content);
                parts.extend(message.tool_calls.iter().map(|call| Part {
                    text: None,
                    function_call: Some(FunctionCall {
                        name: &call.name,
                        args: &call.arguments,
                    }),
                    function_response: None,
                    thought_signature: call.signature.as_deref(),
                }));
                ("model", parts)
            }
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some(last) if last.role == Some(role) => last.parts.extend(parts),
            _ => contents.push(Content {
                role: Some(role),
                parts,
            }),
        }
    }
    contents
}

fn text_part(text: &str) -> Vec<Part<'_>> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Part::text(text)]
    }
}

/// A tool's result as the object Gemini wants: the result itself when it
/// is a JSON object, else `{"result": …}`.
fn response_object(content: &str) -> Value {
    match serde_json::from_str::<Value>(content) {
        Ok(value) if value.is_object() => value,
        Ok(value) => json!({ "result": value }),
        Err(_) => json!({ "result": content }),
    }
}

/// One answer, or one chunk of a streamed answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentResponse {
    #[serde(default)]
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) prompt_feedback: Option<PromptFeedback>,
    pub(crate) usage_metadata: Option<UsageMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    pub(crate) content: Option<AnswerContent>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) finish_message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerContent {
    #[serde(default)]
    pub(crate) parts: Vec<AnswerPart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnswerPart {
    pub(crate) text: Option<String>,
    /// Thought summaries are not part of the answer.
    #[serde(default)]
    pub(crate) thought: bool,
    pub(crate) function_call: Option<AnswerFunctionCall>,
    pub(crate) thought_signature: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerFunctionCall {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) args: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    pub(crate) block_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
    #[serde(default)]
    thoughts_token_count: u32,
}

impl From<UsageMetadata> for Usage {
    fn from(usage: UsageMetadata) -> Self {
        Usage {
            input_tokens: usage.prompt_token_count,
            output_tokens: usage
                .candidates_token_count
                .saturating_add(usage.thoughts_token_count),
        }
    }
}

impl AnswerFunctionCall {
    /// The call, with an id made up when Gemini sent none.
    pub(crate) fn into_call(self, signature: Option<String>) -> Result<ToolCall, LlmError> {
        let arguments = self.args.unwrap_or_else(|| json!({}));
        if !arguments.is_object() {
            return Err(LlmError::invalid_tool_call(
                &self.name,
                "the arguments are not a JSON object",
            ));
        }
        Ok(ToolCall {
            id: self.id.unwrap_or_else(next_call_id),
            name: self.name,
            arguments,
            signature,
        })
    }
}

impl GenerateContentResponse {
    /// Fails when the prompt was blocked.
    pub(crate) fn check_prompt(&self) -> Result<(), LlmError> {
        match self
            .prompt_feedback
            .as_ref()
            .and_then(|feedback| feedback.block_reason.as_deref())
        {
            Some(reason) => Err(LlmError::rejected(&format!(
                "the prompt was blocked (blockReason: {reason})"
            ))),
            None => Ok(()),
        }
    }

    /// The turn this (whole) answer describes.
    pub(crate) fn into_response(self) -> Result<ChatResponse, LlmError> {
        self.check_prompt()?;
        let usage = self.usage_metadata.map(Usage::from).unwrap_or_default();
        let candidate = self
            .candidates
            .into_iter()
            .next()
            .ok_or_else(|| LlmError::invalid_response("the answer has no candidates"))?;
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        let parts = candidate.content.map(|content| content.parts);
        for part in parts.unwrap_or_default() {
            if let Some(call) = part.function_call {
                tool_calls.push(call.into_call(part.thought_signature)?);
            } else if let Some(piece) = part.text.filter(|_| !part.thought) {
                text.push_str(&piece);
            }
        }
        let finish_reason = finish_reason(
            candidate.finish_reason.as_deref(),
            candidate.finish_message.as_deref(),
            !tool_calls.is_empty(),
        )?;
        Ok(ChatResponse {
            message: ChatMessage::assistant(text, tool_calls),
            usage,
            finish_reason,
        })
    }
}

/// Maps a `finishReason`. Gemini says `STOP` after function calls too;
/// safety stops are refusals, malformed calls are model misbehaviour.
pub(crate) fn finish_reason(
    reason: Option<&str>,
    message: Option<&str>,
    called_tools: bool,
) -> Result<FinishReason, LlmError> {
    let explained = |what: &str| match message {
        Some(message) if !message.is_empty() => format!("{what}: {message}"),
        _ => what.to_owned(),
    };
    Ok(match reason {
        None | Some("STOP") if called_tools => FinishReason::ToolCalls,
        None | Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            reason @ ("SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII"
            | "IMAGE_SAFETY" | "LANGUAGE"),
        ) => {
            return Err(LlmError::rejected(&explained(&format!(
                "the answer was blocked (finishReason: {reason})"
            ))))
        }
        Some(reason @ ("MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL")) => {
            return Err(LlmError::invalid_tool_call(
                "(unknown)",
                &explained(&format!("finishReason {reason}")),
            ))
        }
        Some(_) => FinishReason::Other,
    })
}
