//! Google Gemini backend, registered with `inventory` twice:
//! `google-gla:<model>` (the Gemini API) and `google-vertex:<model>`
//! (Vertex AI in express mode). Both take an API key (`GOOGLE_API_KEY`)
//! and share one wire format.
//!
//! `POST {base}/models/{model}:generateContent`, or
//! `:streamGenerateContent?alt=sse` for server-sent events, with the key in
//! the `x-goog-api-key` header (never in the URL, so it cannot leak through
//! an error that prints the URL). System messages become the
//! `systemInstruction`, tools become `functionDeclarations` with their
//! JSON Schema as `parametersJsonSchema`, and `thinking_budget` becomes
//! `thinkingConfig.thinkingBudget`. Gemini sends each function call whole
//! (one argument delta per call) and no call ids, so ids are made up
//! (`gemini_call_<n>`); thought signatures are kept and sent back.

mod stream;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use forecastlab_core::ai::{
    ChatRequest, ChatResponse, LlmError, LlmProvider, LlmRegistration, LlmSettings, LlmStream,
    ModelProvider,
};
use forecastlab_core::CoreError;
use forecastlab_llm_http::{decode_stream, HttpTransport, RequestBuilder};

use crate::stream::ChunkDecoder;
use crate::wire::{GenerateContentRequest, GenerateContentResponse};

/// The Gemini API (`google-gla`).
pub const GLA_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Vertex AI in express mode (`google-vertex`).
pub const VERTEX_BASE_URL: &str = "https://aiplatform.googleapis.com/v1/publishers/google";

/// Numbers made-up call ids across all clients, so they never repeat
/// within a process.
static CALL_IDS: AtomicU64 = AtomicU64::new(0);

/// A fresh tool-call id.
pub(crate) fn next_call_id() -> String {
    format!("gemini_call_{}", CALL_IDS.fetch_add(1, Ordering::Relaxed))
}

/// A Gemini client for one model.
#[derive(Debug)]
pub struct Gemini {
    provider: ModelProvider,
    model: String,
    api_key: Option<String>,
    transport: HttpTransport,
}

impl Gemini {
    /// A client for `model` of `provider` (`google-gla` or `google-vertex`,
    /// which differ only in their default base URL).
    pub fn new(
        provider: ModelProvider,
        model: &str,
        settings: &LlmSettings,
    ) -> Result<Gemini, CoreError> {
        let default_base_url = match provider {
            ModelProvider::GoogleVertex => VERTEX_BASE_URL,
            _ => GLA_BASE_URL,
        };
        Ok(Gemini {
            provider,
            // `models/gemini-…` (as Google's own listings name them) works too.
            model: model.trim_start_matches("models/").to_owned(),
            api_key: settings.key().map(str::to_owned),
            transport: HttpTransport::new(settings, default_base_url)?,
        })
    }

    fn post(&self, method: &str) -> RequestBuilder {
        let request = self
            .transport
            .post(&format!("/models/{}:{method}", self.model));
        match &self.api_key {
            Some(key) => request.header("x-goog-api-key", key),
            None => request,
        }
    }
}

#[async_trait]
impl LlmProvider for Gemini {
    fn provider(&self) -> ModelProvider {
        self.provider
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let body = GenerateContentRequest::new(request);
        let answer: GenerateContentResponse = self
            .transport
            .send_json(self.post("generateContent"), &body)
            .await?;
        answer.into_response()
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let body = GenerateContentRequest::new(request);
        let request = self.post("streamGenerateContent").query(&[("alt", "sse")]);
        let events = self.transport.send_sse(request, &body).await?;
        Ok(decode_stream(events, ChunkDecoder::default()))
    }
}

fn build_gla(model: &str, settings: &LlmSettings) -> Result<Box<dyn LlmProvider>, CoreError> {
    Ok(Box::new(Gemini::new(
        ModelProvider::GoogleGla,
        model,
        settings,
    )?))
}

fn build_vertex(model: &str, settings: &LlmSettings) -> Result<Box<dyn LlmProvider>, CoreError> {
    Ok(Box::new(Gemini::new(
        ModelProvider::GoogleVertex,
        model,
        settings,
    )?))
}

forecastlab_core::inventory::submit! {
    LlmRegistration { provider: ModelProvider::GoogleGla, build: build_gla }
}

forecastlab_core::inventory::submit! {
    LlmRegistration { provider: ModelProvider::GoogleVertex, build: build_vertex }
}
