//! What the LLM backend plugins share.
//!
//! [`HttpTransport`] posts JSON to a provider with the time limits of
//! [`LlmSettings`] and turns every failure into an [`LlmError`] whose detail
//! is already scrubbed of secrets (the configured key verbatim, and every
//! key shape). [`SseDecoder`] and [`decode_stream`] turn a server-sent-event
//! response into an [`LlmStream`], so each backend only writes how one of
//! its events maps to [`LlmEvent`]s.
//!
//! [`LlmEvent`]: forecastlab_core::ai::LlmEvent

mod sse;
mod transport;

/// The request type backends add their headers to.
pub use reqwest::RequestBuilder;
pub use sse::{decode_stream, SseDecoder, SseEvent};
pub use transport::HttpTransport;

#[doc(no_inline)]
pub use forecastlab_core::ai::{LlmError, LlmSettings, LlmStream};
