//! Traits for the AI backends: embedding providers (RAG) and LLM providers
//! (agents). Both are object-safe and async. The LLM side lives in the
//! submodules: [`llm`] (the trait, conversation types and registry),
//! [`model_id`] (`provider:model` identifiers), [`failure`] (errors and
//! their classification), [`scrub`] (secret scrubbing) and [`stream`]
//! (assembling streamed turns).

use std::{fmt::Debug, time::Duration};

use async_trait::async_trait;

use crate::CoreError;

pub mod failure;
pub mod llm;
pub mod model_id;
pub mod scrub;
pub mod stream;

pub use failure::{failure_summary, FailureReason, LlmError, LlmErrorKind, ModelFailure};
pub use llm::{
    build_llm, llm, llms, BuildLlm, ChatMessage, ChatRequest, ChatResponse, ChatRole, FinishReason,
    LlmEvent, LlmProvider, LlmRegistration, LlmSettings, LlmStream, ToolCall, ToolSpec, Usage,
};
pub use model_id::{ModelId, ModelIdError, ModelProvider};
pub use scrub::{scrub_secrets, SecretScrubber};
pub use stream::{collect_stream, parse_tool_arguments, ToolCallAssembler};

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
    /// Texts per request, for HTTP embedders (their default when `None`).
    pub batch_size: Option<usize>,
    /// Longest wait for one answer (the provider's default when `None`).
    pub timeout: Option<Duration>,
    /// First back-off delay of a retried request, doubled on each retry
    /// (1 s when `None`; tests shorten it).
    pub retry_base_delay: Option<Duration>,
}

impl Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("dimension", &self.dimension)
            .field("batch_size", &self.batch_size)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
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
