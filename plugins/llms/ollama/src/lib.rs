//! Ollama backend (`ollama:<model>`, e.g. `ollama:llama3.1:8b`), registered
//! with `inventory`.
//!
//! Talks to `{base}/v1/chat/completions`, Ollama's copy of OpenAI's Chat
//! Completions (tools and streamed tool calls included), with the client of
//! [`forecastlab_llm_openai`]. The base URL is the Ollama server itself
//! (`OLLAMA_BASE_URL`, default `http://localhost:11434`); no key is sent
//! unless one is configured (for an Ollama behind an authenticating proxy).

use forecastlab_core::ai::{LlmRegistration, LlmSettings, ModelProvider};
use forecastlab_core::{CoreError, LlmProvider};
use forecastlab_llm_openai::{Dialect, MaxTokensField, OpenAiCompatible};

/// Where a local Ollama listens by default.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434";

/// The Ollama dialect: `{base}/v1/chat/completions`, `max_tokens`.
pub const OLLAMA: Dialect = Dialect {
    provider: ModelProvider::Ollama,
    default_base_url: DEFAULT_BASE_URL,
    chat_path: "/v1/chat/completions",
    max_tokens_field: MaxTokensField::MaxTokens,
};

fn build(model: &str, settings: &LlmSettings) -> Result<Box<dyn LlmProvider>, CoreError> {
    Ok(Box::new(OpenAiCompatible::new(OLLAMA, model, settings)?))
}

forecastlab_core::inventory::submit! {
    LlmRegistration { provider: ModelProvider::Ollama, build }
}
