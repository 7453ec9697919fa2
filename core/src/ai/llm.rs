//! The LLM provider trait, the conversation types every backend maps to its
//! wire format, and the registry the backend plugins submit themselves to.

use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use super::failure::LlmError;
use super::model_id::{ModelId, ModelProvider};
use crate::CoreError;

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// System instructions.
    System,
    /// The human user.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
}

/// A tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id: the provider's, or one made up for providers that assign
    /// none (Gemini). Tool results answer it through
    /// [`ChatMessage::tool_call_id`].
    pub id: String,
    /// Tool name.
    pub name: String,
    /// The arguments: always a JSON object.
    pub arguments: serde_json::Value,
    /// An opaque token the provider wants back with this call in later
    /// turns (Gemini's thought signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Author.
    pub role: ChatRole,
    /// Text content (for tool messages: the tool's result, usually JSON).
    pub content: String,
    /// Tool calls made in this (assistant) message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For tool messages: the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    fn text(role: ChatRole, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// System instructions.
    pub fn system(content: impl Into<String>) -> ChatMessage {
        ChatMessage::text(ChatRole::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> ChatMessage {
        ChatMessage::text(ChatRole::User, content)
    }

    /// An assistant message with text and/or tool calls.
    pub fn assistant(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> ChatMessage {
        ChatMessage {
            tool_calls,
            ..ChatMessage::text(ChatRole::Assistant, content)
        }
    }

    /// The result of the tool call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            tool_call_id: Some(call_id.into()),
            ..ChatMessage::text(ChatRole::Tool, content)
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Tool name.
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: serde_json::Value,
}

/// A chat completion request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Conversation so far. System messages become the provider's system
    /// instructions wherever they appear.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Sampling temperature.
    pub temperature: f32,
    /// Maximum tokens to generate.
    pub max_tokens: u32,
    /// Token budget for the model's thinking, for providers that take one
    /// (Gemini); others ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<u32>,
}

/// Tokens a turn consumed, as reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens (thinking included, where the provider reports it).
    pub output_tokens: u32,
}

impl Usage {
    /// Input plus output tokens.
    pub fn total(&self) -> u32 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
    }
}

/// Why the model stopped generating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It finished its answer.
    Stop,
    /// It wants tool results.
    ToolCalls,
    /// It hit `max_tokens`.
    Length,
    /// Any other reason the provider gave.
    Other,
}

/// A completed chat turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The assistant's message (text and/or tool calls).
    pub message: ChatMessage,
    /// Tokens used.
    pub usage: Usage,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
}

/// One event of a streamed chat turn.
///
/// A stream that succeeds ends with exactly one [`LlmEvent::Done`]; every
/// [`LlmEvent::ToolCallStart`] is followed by zero or more
/// [`LlmEvent::ToolCallDelta`]s and one [`LlmEvent::ToolCallEnd`] with the
/// same index before `Done`. A stream that fails yields one `Err` and ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LlmEvent {
    /// New text: only what was added, never the text so far.
    TextDelta {
        /// The added text.
        text: String,
    },
    /// The model started a tool call.
    ToolCallStart {
        /// Position of the call in this turn (0, 1, …).
        index: usize,
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// A fragment of a tool call's JSON arguments, as streamed.
    ToolCallDelta {
        /// Position of the call in this turn.
        index: usize,
        /// The added JSON text.
        arguments: String,
    },
    /// A tool call is complete; its arguments parsed to a JSON object.
    ToolCallEnd {
        /// Position of the call in this turn.
        index: usize,
        /// The complete call.
        call: ToolCall,
    },
    /// The turn ended.
    Done {
        /// Tokens used by the turn.
        usage: Usage,
        /// Why the model stopped.
        finish_reason: FinishReason,
    },
}

/// A streamed chat turn.
pub type LlmStream = BoxStream<'static, Result<LlmEvent, LlmError>>;

/// A chat model with tool calling and streaming.
///
/// Errors are [`LlmError`]s whose details are already scrubbed of secrets.
/// Time limits come from [`LlmSettings`]: a plain turn must complete within
/// `timeout`; a stream must start, and then deliver each next event, within
/// `timeout`.
#[async_trait]
pub trait LlmProvider: Send + Sync + Debug {
    /// The provider (`anthropic`, `openai`, `google-gla`, …).
    fn provider(&self) -> ModelProvider;

    /// The provider's model name (`claude-sonnet-4-5`).
    fn model(&self) -> &str;

    /// The full identifier, `provider:model`.
    fn model_id(&self) -> String {
        format!("{}:{}", self.provider(), self.model())
    }

    /// Runs one chat turn to completion.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;

    /// Runs one chat turn, streaming text deltas and tool calls as they
    /// arrive. Fails before the stream when the provider refuses the
    /// request (HTTP error, connection refused, timeout).
    async fn chat_stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError>;
}

/// How to reach a provider. The `Debug` impl never prints the key.
#[derive(Clone)]
pub struct LlmSettings {
    /// API key, if the provider needs one.
    pub api_key: Option<String>,
    /// Base URL of the provider's API; `None` for its public default.
    pub base_url: Option<String>,
    /// Longest wait for a whole turn, or for each next piece of a stream.
    pub timeout: Duration,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
}

impl LlmSettings {
    /// Default time limit of a turn (and of each stream event).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
    /// Default time limit to connect.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Settings with `api_key`, everything else default.
    pub fn with_key(api_key: impl Into<String>) -> LlmSettings {
        LlmSettings {
            api_key: Some(api_key.into()),
            ..LlmSettings::default()
        }
    }

    /// These settings with another base URL.
    pub fn base_url(mut self, base_url: impl Into<String>) -> LlmSettings {
        self.base_url = Some(base_url.into());
        self
    }

    /// These settings with another timeout.
    pub fn timeout(mut self, timeout: Duration) -> LlmSettings {
        self.timeout = timeout;
        self
    }

    /// The key, when one is set and not blank.
    pub fn key(&self) -> Option<&str> {
        self.api_key.as_deref().filter(|key| !key.trim().is_empty())
    }
}

impl Default for LlmSettings {
    fn default() -> Self {
        LlmSettings {
            api_key: None,
            base_url: None,
            timeout: LlmSettings::DEFAULT_TIMEOUT,
            connect_timeout: LlmSettings::DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

impl Debug for LlmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmSettings")
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Builds a client for `model` (the name after the provider prefix).
pub type BuildLlm =
    fn(model: &str, settings: &LlmSettings) -> Result<Box<dyn LlmProvider>, CoreError>;

/// An LLM backend's entry in the registry: one per provider prefix.
#[derive(Debug)]
pub struct LlmRegistration {
    /// The provider this entry serves.
    pub provider: ModelProvider,
    /// Builds a client for a model of this provider.
    pub build: BuildLlm,
}

inventory::collect!(LlmRegistration);

/// Every LLM backend linked in, sorted by provider prefix.
pub fn llms() -> Vec<&'static LlmRegistration> {
    let mut all: Vec<_> = inventory::iter::<LlmRegistration>.into_iter().collect();
    all.sort_by_key(|registration| registration.provider.as_str());
    all
}

/// The backend registered for `provider`.
pub fn llm(provider: ModelProvider) -> Option<&'static LlmRegistration> {
    inventory::iter::<LlmRegistration>
        .into_iter()
        .find(|registration| registration.provider == provider)
}

/// Builds the client for `model`. Fails with [`CoreError::InvalidConfig`]
/// naming the setting when the provider needs a key and none is set, and
/// with [`CoreError::Unsupported`] when no backend for the provider is
/// linked in.
pub fn build_llm(
    model: &ModelId,
    settings: &LlmSettings,
) -> Result<Box<dyn LlmProvider>, CoreError> {
    let provider = model.provider();
    if let Some(variable) = provider.api_key_env() {
        if settings.key().is_none() {
            return Err(CoreError::config(format!(
                "{variable} is not set: the model '{model}' needs an API key for {provider}"
            )));
        }
    }
    let registration = llm(provider).ok_or_else(|| {
        CoreError::Unsupported(format!(
            "no LLM backend for the provider '{provider}' is linked into this build"
        ))
    })?;
    (registration.build)(model.model(), settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_debug_masks_the_key() {
        let shown = format!("{:?}", LlmSettings::with_key("sk-secret-value"));
        assert!(!shown.contains("sk-secret-value"));
        assert!(shown.contains("***"));
    }

    #[test]
    fn building_without_a_key_names_the_setting() {
        let model = ModelId::parse("anthropic:claude-sonnet-4-5").unwrap();
        let error = build_llm(&model, &LlmSettings::with_key("  ")).unwrap_err();
        assert_eq!(
            error,
            CoreError::config(
                "ANTHROPIC_API_KEY is not set: the model 'anthropic:claude-sonnet-4-5' \
                 needs an API key for anthropic"
            )
        );
    }

    #[test]
    fn building_an_unlinked_backend_says_so() {
        // No backend crate is linked into core's own tests.
        let model = ModelId::parse("ollama:llama3.1").unwrap();
        let error = build_llm(&model, &LlmSettings::default()).unwrap_err();
        assert!(matches!(error, CoreError::Unsupported(_)), "{error:?}");
        assert!(llms().is_empty());
    }

    #[test]
    fn usage_adds_up() {
        let mut usage = Usage {
            input_tokens: 10,
            output_tokens: 5,
        };
        usage += Usage {
            input_tokens: 1,
            output_tokens: 2,
        };
        assert_eq!(usage.total(), 18);
    }

    #[test]
    fn events_serialize_with_a_type_tag() {
        let event = LlmEvent::TextDelta { text: "Hi".into() };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "text_delta", "text": "Hi"})
        );
    }
}
