//! The `/v1/embeddings` client.

use std::time::Duration;

use async_trait::async_trait;
use forecastlab_core::{
    ai::{EmbeddingProvider, LlmSettings, ProviderSettings},
    rag::tokens,
    CoreError, LlmError,
};
use forecastlab_llm_http::HttpTransport;
use serde::Deserialize;
use serde_json::json;

/// Most inputs OpenAI accepts in one request.
pub const MAX_BATCH: usize = 2048;
/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 3;
/// Inputs per request when none is configured.
const DEFAULT_BATCH: usize = 100;

/// What differs between the providers serving `/v1/embeddings`.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// Registry name (`openai`, `ollama`).
    pub name: &'static str,
    /// Name in messages.
    pub display: &'static str,
    /// Base URL when none is configured.
    pub default_base_url: &'static str,
    /// Path appended to the base URL.
    pub path: &'static str,
    /// Whether an API key is required (and sent as a bearer token).
    pub needs_key: bool,
    /// Whether inputs are cut to 8191 tokens first.
    pub truncate_inputs: bool,
    /// Longest wait for one answer when none is configured.
    pub default_timeout: Duration,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Whether a failed request is retried.
    pub retry: fn(&LlmError) -> bool,
    /// The message for a final failure (`error`, model, base URL).
    pub describe: fn(&LlmError, &str, &str) -> String,
}

/// An embedder speaking `/v1/embeddings`.
#[derive(Debug, Clone)]
pub struct HttpEmbedder {
    dialect: Dialect,
    transport: HttpTransport,
    api_key: Option<String>,
    model: String,
    dimension: usize,
    batch_size: usize,
    retry_base_delay: Duration,
}

#[derive(Debug, Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct Answer {
    data: Vec<Item>,
}

impl HttpEmbedder {
    /// A client for `dialect` from `settings` (model, dimension, key, base
    /// URL, batch size, timeout). Fails on a missing key or dimension, or a
    /// base URL that is not http(s).
    pub fn new(dialect: Dialect, settings: &ProviderSettings) -> Result<Self, CoreError> {
        let api_key = settings
            .api_key
            .clone()
            .filter(|key| !key.trim().is_empty());
        if dialect.needs_key && api_key.is_none() {
            return Err(CoreError::provider(format!(
                "no {} API key is configured (set {}_API_KEY or PATCH /config/ai)",
                dialect.display,
                dialect.name.to_uppercase()
            )));
        }
        let dimension = settings
            .dimension
            .filter(|d| *d > 0)
            .ok_or_else(|| CoreError::config("an embedding dimension ≥ 1 is required"))?;
        let timeout = settings.timeout.unwrap_or(dialect.default_timeout);
        let llm_settings = LlmSettings {
            api_key: api_key.clone(),
            base_url: settings.base_url.clone(),
            timeout,
            connect_timeout: dialect.connect_timeout.min(timeout),
        };
        Ok(Self {
            dialect,
            transport: HttpTransport::new(&llm_settings, dialect.default_base_url)?,
            api_key,
            model: settings.model.trim().to_owned(),
            dimension,
            batch_size: settings
                .batch_size
                .unwrap_or(DEFAULT_BATCH)
                .clamp(1, MAX_BATCH),
            retry_base_delay: settings.retry_base_delay.unwrap_or(Duration::from_secs(1)),
        })
    }

    /// The model asked for.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Inputs per request.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    async fn request(&self, inputs: &[String]) -> Result<Answer, LlmError> {
        let body = json!({
            "model": self.model,
            "input": inputs,
            "dimensions": self.dimension,
            "encoding_format": "float",
        });
        let mut attempt = 0;
        loop {
            let request = self.transport.post(self.dialect.path);
            let request = match &self.api_key {
                Some(key) => request.bearer_auth(key),
                None => request,
            };
            match self.transport.send_json::<Answer>(request, &body).await {
                Ok(answer) => return Ok(answer),
                Err(error) if attempt < MAX_RETRIES && (self.dialect.retry)(&error) => {
                    tokio::time::sleep(self.retry_base_delay * 2u32.pow(attempt)).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn embed_batch(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, CoreError> {
        let answer = self.request(inputs).await.map_err(|error| {
            CoreError::provider((self.dialect.describe)(
                &error,
                &self.model,
                self.transport.base_url(),
            ))
        })?;
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; inputs.len()];
        for item in answer.data {
            let slot = slots.get_mut(item.index).ok_or_else(|| {
                self.invalid(&format!(
                    "an item has index {} of {}",
                    item.index,
                    inputs.len()
                ))
            })?;
            if item.embedding.len() != self.dimension {
                return Err(self.invalid(&format!(
                    "a vector has {} dimensions, not the {} configured",
                    item.embedding.len(),
                    self.dimension
                )));
            }
            *slot = Some(item.embedding);
        }
        slots
            .into_iter()
            .map(|slot| slot.ok_or_else(|| self.invalid("an input got no vector")))
            .collect()
    }

    fn invalid(&self, problem: &str) -> CoreError {
        CoreError::provider(format!(
            "{} answered an unusable embeddings response: {problem}",
            self.dialect.display
        ))
    }
}

#[async_trait]
impl EmbeddingProvider for HttpEmbedder {
    fn name(&self) -> &'static str {
        self.dialect.name
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CoreError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.batch_size) {
            let inputs: Vec<String> = if self.dialect.truncate_inputs {
                batch
                    .iter()
                    .map(|text| tokens::truncate(text, tokens::MAX_TOKENS))
                    .collect()
            } else {
                batch.to_vec()
            };
            vectors.extend(self.embed_batch(&inputs).await?);
        }
        Ok(vectors)
    }
}
