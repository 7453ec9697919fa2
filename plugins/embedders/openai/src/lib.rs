//! The `openai` embedding provider, registered with `inventory`, and
//! [`HttpEmbedder`], the `/v1/embeddings` client it shares with the
//! `ollama` embedder (Ollama serves the same wire format).
//!
//! - `POST {base}/embeddings` (base `https://api.openai.com/v1` unless
//!   configured) with `Authorization: Bearer <key>` and
//!   `{model, input: [..], dimensions}`;
//! - batches of `min(batch_size, 2048)` inputs (100 by default), each input
//!   cut to 8191 `cl100k_base` tokens;
//! - items put back in order by their `index`; a count or length that does
//!   not match is an error;
//! - a 429 is retried up to 3 times after `base × 2^attempt` (1 s, 2 s,
//!   4 s); any other failure fails at once. A missing key fails before any
//!   request.

mod client;

pub use client::{Dialect, HttpEmbedder, MAX_BATCH, MAX_RETRIES};

use std::time::Duration;

use forecastlab_core::{
    ai::{EmbedderRegistration, EmbeddingProvider, ProviderSettings},
    CoreError, LlmError,
};

/// OpenAI's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Model when none is configured.
pub const DEFAULT_MODEL: &str = "text-embedding-3-small";

fn retry_rate_limits(error: &LlmError) -> bool {
    error.status() == Some(429)
}

fn describe(error: &LlmError, _model: &str, _base_url: &str) -> String {
    match error.status() {
        Some(401) => format!("OpenAI rejected the API key (HTTP 401): {}", error.detail()),
        Some(status) => format!("OpenAI answered HTTP {status}: {}", error.detail()),
        None => format!("OpenAI request failed: {}", error.detail()),
    }
}

/// The OpenAI dialect.
pub const OPENAI: Dialect = Dialect {
    name: "openai",
    display: "OpenAI",
    default_base_url: DEFAULT_BASE_URL,
    path: "/embeddings",
    needs_key: true,
    truncate_inputs: true,
    default_timeout: Duration::from_secs(60),
    connect_timeout: Duration::from_secs(10),
    retry: retry_rate_limits,
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
    Ok(Box::new(HttpEmbedder::new(OPENAI, &settings)?))
}

forecastlab_core::inventory::submit! {
    EmbedderRegistration { name: "openai", build }
}
