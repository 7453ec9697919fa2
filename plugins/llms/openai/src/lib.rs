//! OpenAI Chat Completions backend (`openai:<model>`), registered with
//! `inventory`.
//!
//! [`OpenAiCompatible`] speaks the Chat Completions wire format — JSON turns
//! and server-sent-event streams with tool-call argument deltas — for
//! OpenAI itself and for any endpoint that copies it (Ollama's `/v1`), each
//! described by a [`Dialect`].

mod client;
mod stream;
mod wire;

pub use client::{Dialect, OpenAiCompatible};
pub use wire::MaxTokensField;

use forecastlab_core::ai::{LlmRegistration, LlmSettings, ModelProvider};
use forecastlab_core::{CoreError, LlmProvider};

/// OpenAI's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The OpenAI dialect: `{base}/chat/completions`, bearer key,
/// `max_completion_tokens`.
pub const OPENAI: Dialect = Dialect {
    provider: ModelProvider::OpenAi,
    default_base_url: DEFAULT_BASE_URL,
    chat_path: "/chat/completions",
    max_tokens_field: MaxTokensField::MaxCompletionTokens,
};

fn build(model: &str, settings: &LlmSettings) -> Result<Box<dyn LlmProvider>, CoreError> {
    Ok(Box::new(OpenAiCompatible::new(OPENAI, model, settings)?))
}

forecastlab_core::inventory::submit! {
    LlmRegistration { provider: ModelProvider::OpenAi, build }
}
