//! Posting JSON to a provider, with time limits and error mapping.

use std::error::Error as _;
use std::time::Duration;

use eventsource_stream::Eventsource;
use forecastlab_core::ai::{LlmError, LlmSettings, SecretScrubber};
use forecastlab_core::CoreError;
use futures::{Stream, StreamExt};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sse::SseEvent;

/// A provider's HTTP endpoint: one connection pool, its base URL, its time
/// limits and the scrubber for its key.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base_url: String,
    timeout: Duration,
    scrubber: SecretScrubber,
}

impl HttpTransport {
    /// A transport for `settings`, talking to `settings.base_url` or else
    /// `default_base_url`. Fails on a base URL that is not an http(s) URL.
    pub fn new(settings: &LlmSettings, default_base_url: &str) -> Result<HttpTransport, CoreError> {
        let base_url = settings
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .unwrap_or(default_base_url)
            .trim_end_matches('/')
            .to_owned();
        let parsed = reqwest::Url::parse(&base_url).map_err(|error| {
            CoreError::config(format!("invalid base URL '{base_url}': {error}"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(CoreError::config(format!(
                "invalid base URL '{base_url}': only http and https are supported"
            )));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("forecastlab/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| CoreError::config(format!("cannot build an HTTP client: {error}")))?;
        Ok(HttpTransport {
            client,
            base_url,
            timeout: settings.timeout,
            scrubber: SecretScrubber::new(settings.key()),
        })
    }

    /// The base URL in use (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The scrubber holding this provider's key.
    pub fn scrubber(&self) -> &SecretScrubber {
        &self.scrubber
    }

    /// A POST to `path` (appended to the base URL), for the backend to add
    /// its headers to.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base_url))
    }

    /// Sends `body` as JSON and decodes a successful answer as `T`. The
    /// whole exchange must finish within the timeout.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: &impl Serialize,
    ) -> Result<T, LlmError> {
        let exchange = async {
            let response = self.checked(request.json(body).send().await).await?;
            let text = response
                .text()
                .await
                .map_err(|error| self.transport_error(&error))?;
            serde_json::from_str(&text).map_err(|error| {
                LlmError::invalid_response(&format!("undecodable answer: {error}"))
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(LlmError::timeout(self.timeout, "response")))
    }

    /// Sends `body` as JSON and returns the server-sent events of a
    /// successful answer. The answer must start within the timeout, and each
    /// next event must follow within the timeout.
    pub async fn send_sse(
        &self,
        request: RequestBuilder,
        body: &impl Serialize,
    ) -> Result<impl Stream<Item = Result<SseEvent, LlmError>> + Send + Unpin + 'static, LlmError>
    {
        let response = tokio::time::timeout(self.timeout, async {
            self.checked(request.json(body).send().await).await
        })
        .await
        .unwrap_or_else(|_| Err(LlmError::timeout(self.timeout, "response")))?;
        let transport = self.clone();
        let events = response.bytes_stream().eventsource().map(move |item| {
            item.map_err(|error| match error {
                eventsource_stream::EventStreamError::Transport(error) => {
                    transport.transport_error(&error)
                }
                other => LlmError::invalid_response(&format!("unreadable event stream: {other}")),
            })
        });
        Ok(with_idle_timeout(events, self.timeout))
    }

    /// The response when it was sent and has a success status; otherwise the
    /// error, with the provider's message read from the error body.
    async fn checked(&self, sent: reqwest::Result<Response>) -> Result<Response, LlmError> {
        let response = sent.map_err(|error| self.transport_error(&error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(LlmError::from_status(
            status.as_u16(),
            &body,
            &self.scrubber,
        ))
    }

    /// A transport failure: a timeout, or a connection error described by
    /// the whole error chain (without the URL).
    fn transport_error(&self, error: &reqwest::Error) -> LlmError {
        if error.is_timeout() {
            return LlmError::timeout(self.timeout, "response");
        }
        let mut detail = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        if let Some(url) = error.url() {
            detail = detail.replace(url.as_str(), "<provider URL>");
        }
        LlmError::connection(&detail, &self.scrubber)
    }
}

/// `stream`, failing with a timeout when the next item takes longer than
/// `timeout`.
fn with_idle_timeout<S, T>(
    stream: S,
    timeout: Duration,
) -> impl Stream<Item = Result<T, LlmError>> + Send + Unpin + 'static
where
    S: Stream<Item = Result<T, LlmError>> + Send + Unpin + 'static,
    T: Send + 'static,
{
    Box::pin(futures::stream::unfold(
        Some(stream),
        move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout(timeout, stream.next()).await {
                Ok(Some(item)) => Some((item, Some(stream))),
                Ok(None) => None,
                Err(_) => Some((Err(LlmError::timeout(timeout, "next stream event")), None)),
            }
        },
    ))
}
