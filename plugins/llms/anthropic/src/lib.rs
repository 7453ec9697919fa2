//! Anthropic Messages backend (`anthropic:<model>`), registered with
//! `inventory`.
//!
//! `POST {base}/v1/messages` with the `x-api-key` and `anthropic-version`
//! headers; system messages become the top-level `system` text, tool
//! results become `tool_result` blocks of a user turn, and streamed
//! `input_json_delta`s become tool-call argument deltas.

mod stream;
mod wire;

use async_trait::async_trait;
use forecastlab_core::ai::{
    ChatRequest, ChatResponse, LlmError, LlmProvider, LlmRegistration, LlmSettings, LlmStream,
    ModelProvider,
};
use forecastlab_core::CoreError;
use forecastlab_llm_http::{decode_stream, HttpTransport, RequestBuilder};

use crate::stream::EventDecoder;
use crate::wire::{Message, MessagesRequest};

/// Anthropic's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The API version sent with every request.
pub const API_VERSION: &str = "2023-06-01";

/// A Messages client for one model.
#[derive(Debug)]
pub struct Anthropic {
    model: String,
    api_key: Option<String>,
    transport: HttpTransport,
}

impl Anthropic {
    /// A client for `model` with `settings`.
    pub fn new(model: &str, settings: &LlmSettings) -> Result<Anthropic, CoreError> {
        Ok(Anthropic {
            model: model.to_owned(),
            api_key: settings.key().map(str::to_owned),
            transport: HttpTransport::new(settings, DEFAULT_BASE_URL)?,
        })
    }

    fn post(&self) -> RequestBuilder {
        let request = self
            .transport
            .post("/v1/messages")
            .header("anthropic-version", API_VERSION);
        match &self.api_key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    }
}

#[async_trait]
impl LlmProvider for Anthropic {
    fn provider(&self) -> ModelProvider {
        ModelProvider::Anthropic
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let body = MessagesRequest::new(&self.model, request, false);
        let message: Message = self.transport.send_json(self.post(), &body).await?;
        message.into_response()
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let body = MessagesRequest::new(&self.model, request, true);
        let events = self.transport.send_sse(self.post(), &body).await?;
        Ok(decode_stream(
            events,
            EventDecoder::new(self.transport.scrubber().clone()),
        ))
    }
}

fn build(model: &str, settings: &LlmSettings) -> Result<Box<dyn LlmProvider>, CoreError> {
    Ok(Box::new(Anthropic::new(model, settings)?))
}

forecastlab_core::inventory::submit! {
    LlmRegistration { provider: ModelProvider::Anthropic, build }
}
