//! The Chat Completions client.

use async_trait::async_trait;
use forecastlab_core::ai::{
    ChatRequest, ChatResponse, LlmError, LlmProvider, LlmSettings, LlmStream, ModelProvider,
};
use forecastlab_core::CoreError;
use forecastlab_llm_http::{decode_stream, HttpTransport, RequestBuilder};

use crate::stream::ChunkDecoder;
use crate::wire::{ChatCompletion, ChatCompletionRequest, MaxTokensField};

/// What differs between OpenAI and an endpoint that copies its wire format.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The provider prefix this dialect serves.
    pub provider: ModelProvider,
    /// Base URL when the settings name none.
    pub default_base_url: &'static str,
    /// Path of the chat endpoint below the base URL.
    pub chat_path: &'static str,
    /// Field for `max_tokens`.
    pub max_tokens_field: MaxTokensField,
}

/// A Chat Completions client for one model. Sends the key, when there is
/// one, as a bearer token.
#[derive(Debug)]
pub struct OpenAiCompatible {
    dialect: Dialect,
    model: String,
    api_key: Option<String>,
    transport: HttpTransport,
}

impl OpenAiCompatible {
    /// A client for `model` with `settings`.
    pub fn new(
        dialect: Dialect,
        model: &str,
        settings: &LlmSettings,
    ) -> Result<OpenAiCompatible, CoreError> {
        Ok(OpenAiCompatible {
            dialect,
            model: model.to_owned(),
            api_key: settings.key().map(str::to_owned),
            transport: HttpTransport::new(settings, dialect.default_base_url)?,
        })
    }

    fn post(&self) -> RequestBuilder {
        let request = self.transport.post(self.dialect.chat_path);
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    fn body<'a>(&'a self, request: &'a ChatRequest, stream: bool) -> ChatCompletionRequest<'a> {
        ChatCompletionRequest::new(&self.model, request, self.dialect.max_tokens_field, stream)
    }
}

#[async_trait]
impl LlmProvider for OpenAiCompatible {
    fn provider(&self) -> ModelProvider {
        self.dialect.provider
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let completion: ChatCompletion = self
            .transport
            .send_json(self.post(), &self.body(request, false))
            .await?;
        completion.into_response()
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let events = self
            .transport
            .send_sse(self.post(), &self.body(request, true))
            .await?;
        Ok(decode_stream(
            events,
            ChunkDecoder::new(self.transport.scrubber().clone()),
        ))
    }
}
