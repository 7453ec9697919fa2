//! The `ollama` embedding provider, registered with `inventory`.
//!
//! `POST {OLLAMA_BASE_URL}/v1/embeddings` (Ollama's copy of OpenAI's
//! endpoint) with `{model, input, dimensions}`, no key, through the client
//! of [`forecastlab_embed_openai`]: items re-ordered by `index`, 60 s
//! timeout (10 s to connect). A 404 means the model is not pulled and says
//! `ollama pull <model>`; a connection failure names the base URL; 429 and
//! 5xx answers and connection failures are retried with the same back-off
//! as OpenAI's rate limits (1 s × 2^attempt, 3 retries).

use std::time::Duration;

use forecastlab_core::{
    ai::{EmbedderRegistration, EmbeddingProvider, ProviderSettings},
    CoreError, LlmError,
};
use forecastlab_embed_openai::{Dialect, HttpEmbedder};

/// Where a local Ollama listens by default.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434";
/// Model when none is configured.
pub const DEFAULT_MODEL: &str = "nomic-embed-text";

fn transient(error: &LlmError) -> bool {
    match error.status() {
        Some(status) => status == 429 || status >= 500,
        None => matches!(error.kind(), forecastlab_core::ai::LlmErrorKind::Connection),
    }
}

fn describe(error: &LlmError, model: &str, base_url: &str) -> String {
    match error.status() {
        Some(404) => format!(
            "Ollama model '{model}' not found at {base_url}. Pull it first: `ollama pull {model}`"
        ),
        Some(status) => format!(
            "Ollama at {base_url} answered HTTP {status}: {}",
            error.detail()
        ),
        None if matches!(error.kind(), forecastlab_core::ai::LlmErrorKind::Connection) => format!(
            "Could not connect to Ollama at {base_url}: {}. Ensure 'ollama serve' is running.",
            error.detail()
        ),
        None => format!("Ollama at {base_url} failed: {}", error.detail()),
    }
}

/// The Ollama dialect.
pub const OLLAMA: Dialect = Dialect {
    name: "ollama",
    display: "Ollama",
    default_base_url: DEFAULT_BASE_URL,
    path: "/v1/embeddings",
    needs_key: false,
    truncate_inputs: false,
    default_timeout: Duration::from_secs(60),
    connect_timeout: Duration::from_secs(10),
    retry: transient,
    describe,
};

fn build(settings: &ProviderSettings) -> Result<Box<dyn EmbeddingProvider>, CoreError> {
    let settings = ProviderSettings {
        model: if settings.model.trim().is_empty() {
            DEFAULT_MODEL.to_owned()
        } else {
            settings.model.clone()
        },
        ..settings.clone()
    };
    Ok(Box::new(HttpEmbedder::new(OLLAMA, &settings)?))
}

forecastlab_core::inventory::submit! {
    EmbedderRegistration { name: "ollama", build }
}
