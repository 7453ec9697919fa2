//! Traits for the AI backends: embedding providers (RAG) and LLM providers
//! (agents). Both are object-safe and async.

use std::fmt::Debug;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::CoreError;

pub mod model_id;

/// Connection settings handed to a provider factory. Secrets are never
/// logged: the `Debug` impl masks the key.
#[derive(Clone, Default)]
pub struct ProviderSettings {
    /// Base URL of the provider's HTTP API.
    pub base_url: Option<String>,
    /// API key, if the provider needs one.
    pub api_key: Option<String>,
    /// Model name (`text-embedding-3-small`, `claude-sonnet-4-5`, …).
    pub model: String,
    /// Embedding dimension, for embedders.
    pub dimension: Option<usize>,
}

impl Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("dimension", &self.dimension)
            .finish()
    }
}

/// Turns texts into vectors.
#[async_trait]
pub trait EmbeddingProvider: Send + Sync + Debug {
    /// Provider name (`openai`, `ollama`, `local`, `lexical`).
    fn name(&self) -> &'static str;

    /// Length of every vector this provider returns.
    fn dimension(&self) -> usize;

    /// Embeds a batch of texts, one vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CoreError>;
}

/// An embedding provider's entry in the registry.
#[derive(Debug)]
pub struct EmbedderRegistration {
    /// Provider name.
    pub name: &'static str,
    /// Builds the provider from settings.
    pub build: fn(&ProviderSettings) -> Result<Box<dyn EmbeddingProvider>, CoreError>,
}

inventory::collect!(EmbedderRegistration);

/// Every embedding provider linked in, sorted by name.
pub fn embedders() -> Vec<&'static EmbedderRegistration> {
    let mut all: Vec<_> = inventory::iter::<EmbedderRegistration>
        .into_iter()
        .collect();
    all.sort_by_key(|registration| registration.name);
    all
}

/// The embedding provider registered under `name`.
pub fn embedder(name: &str) -> Option<&'static EmbedderRegistration> {
    inventory::iter::<EmbedderRegistration>
        .into_iter()
        .find(|registration| registration.name == name)
}

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
    /// Provider-assigned call id.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// JSON arguments.
    pub arguments: serde_json::Value,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Author.
    pub role: ChatRole,
    /// Text content.
    pub content: String,
    /// Tool calls made in this (assistant) message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For tool messages: the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Tool name.
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: serde_json::Value,
}

/// A chat completion request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Sampling temperature.
    pub temperature: f32,
    /// Maximum tokens to generate.
    pub max_tokens: u32,
}

/// A completed chat turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The assistant's message (text and/or tool calls).
    pub message: ChatMessage,
    /// Tokens used, as reported by the provider.
    pub tokens_used: u32,
}

/// One event of a streamed chat turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LlmEvent {
    /// A piece of text.
    TextDelta(String),
    /// A complete tool call.
    ToolCall(ToolCall),
    /// The turn ended.
    Done {
        /// Tokens used.
        tokens_used: u32,
    },
}

/// A chat model with tool calling and streaming.
#[async_trait]
pub trait LlmProvider: Send + Sync + Debug {
    /// Provider name (`openai`, `anthropic`, `gemini`, `ollama`).
    fn name(&self) -> &'static str;

    /// Runs one chat turn to completion.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, CoreError>;

    /// Runs one chat turn, streaming text deltas and tool calls.
    async fn chat_stream(
        &self,
        request: &ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, CoreError>>, CoreError>;
}

/// An LLM provider's entry in the registry.
#[derive(Debug)]
pub struct LlmRegistration {
    /// Provider name, the prefix of model names (`anthropic:claude-…`).
    pub name: &'static str,
    /// Builds the provider from settings.
    pub build: fn(&ProviderSettings) -> Result<Box<dyn LlmProvider>, CoreError>,
}

inventory::collect!(LlmRegistration);

/// Every LLM provider linked in, sorted by name.
pub fn llms() -> Vec<&'static LlmRegistration> {
    let mut all: Vec<_> = inventory::iter::<LlmRegistration>.into_iter().collect();
    all.sort_by_key(|registration| registration.name);
    all
}

/// The LLM provider registered under `name`.
pub fn llm(name: &str) -> Option<&'static LlmRegistration> {
    inventory::iter::<LlmRegistration>
        .into_iter()
        .find(|registration| registration.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_debug_masks_the_key() {
        let settings = ProviderSettings {
            api_key: Some("sk-secret".into()),
            model: "m".into(),
            ..Default::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("sk-secret"));
        assert!(shown.contains("***"));
    }
}
