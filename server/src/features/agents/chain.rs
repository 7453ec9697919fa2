//! The model chain: the primary model, then the fallback model when one is
//! configured, distinct and usable (operations-ai spec §5.6).
//!
//! Every model turn tries the legs in order and moves to the next leg on a
//! provider failure (HTTP error, connection, timeout, refusal). A malformed
//! tool call is the model's misbehaviour, not the provider's, and ends the
//! turn at once. When every leg fails, the failures are reported in leg
//! order, classified and scrubbed.

use forecastlab_core::ai::{
    build_llm, collect_stream, ChatRequest, ChatResponse, LlmError, LlmEvent, LlmProvider,
    ModelFailure,
};
use futures::StreamExt;

use super::{
    settings::ModelConfig,
    stream::{EventSink, StreamEvent},
};
use crate::problem::Problem;

/// Why a model turn produced no answer.
#[derive(Debug)]
pub(crate) enum TurnError {
    /// Every leg failed with a provider error.
    Exhausted(Vec<ModelFailure>),
    /// The model produced an invalid tool call.
    Misbehaved(LlmError),
}

/// One model of the chain.
#[derive(Debug)]
struct Leg {
    model_id: String,
    client: Box<dyn LlmProvider>,
}

/// The models a session's agent calls, in order, and the settings they
/// were built from.
#[derive(Debug)]
pub(crate) struct ModelChain {
    legs: Vec<Leg>,
    config: ModelConfig,
}

impl ModelChain {
    /// Builds the chain. Fails with a 400 naming the setting when the
    /// primary model cannot be built (its provider's key is missing, or no
    /// backend for it is linked in). A fallback that cannot be built is
    /// left out.
    pub(crate) fn build(config: ModelConfig) -> Result<ModelChain, Problem> {
        let primary = &config.default_model;
        let client =
            build_llm(primary, &config.llm_settings(primary.provider())).map_err(|error| {
                Problem::bad_request(format!(
                    "The agent cannot be built: {error}. Configure it (AGENT_DEFAULT_MODEL and \
                     the provider's key or base URL) and try again."
                ))
                .with_extension("model", primary.to_string())
            })?;
        let mut legs = vec![Leg {
            model_id: primary.to_string(),
            client,
        }];
        if let Some(fallback) = &config.fallback_model {
            if fallback != primary && config.usable(fallback.provider()) {
                match build_llm(fallback, &config.llm_settings(fallback.provider())) {
                    Ok(client) => legs.push(Leg {
                        model_id: fallback.to_string(),
                        client,
                    }),
                    Err(error) => {
                        tracing::warn!(model = %fallback, %error, "fallback model left out")
                    }
                }
            }
        }
        Ok(ModelChain { legs, config })
    }

    /// The model settings this chain was built from.
    pub(crate) fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Runs one turn to completion on the first leg that answers; returns
    /// the answer and the model that gave it.
    pub(crate) async fn chat(
        &self,
        request: &ChatRequest,
    ) -> Result<(ChatResponse, String), TurnError> {
        let mut failures = Vec::new();
        for leg in &self.legs {
            match leg.client.chat(request).await {
                Ok(response) => return Ok((response, leg.model_id.clone())),
                Err(error) => self::fail(&leg.model_id, error, &mut failures)?,
            }
        }
        Err(TurnError::Exhausted(failures))
    }

    /// Like [`ModelChain::chat`], but streams each leg's turn, forwarding
    /// every text delta to `sink` as it arrives. A leg that fails before or
    /// during its stream hands over to the next leg (whose text then
    /// follows what the failed leg already streamed).
    pub(crate) async fn chat_streaming(
        &self,
        request: &ChatRequest,
        sink: &EventSink,
    ) -> Result<(ChatResponse, String), TurnError> {
        let mut failures = Vec::new();
        for leg in &self.legs {
            let stream = match leg.client.chat_stream(request).await {
                Ok(stream) => stream,
                Err(error) => {
                    self::fail(&leg.model_id, error, &mut failures)?;
                    continue;
                }
            };
            let forward = sink.clone();
            let stream = stream
                .inspect(move |event| match event {
                    Ok(LlmEvent::TextDelta { text }) if !text.is_empty() => {
                        forward.emit(StreamEvent::text_delta(text))
                    }
                    _ => {}
                })
                .boxed();
            match collect_stream(stream).await {
                Ok(response) => return Ok((response, leg.model_id.clone())),
                Err(error) => self::fail(&leg.model_id, error, &mut failures)?,
            }
        }
        Err(TurnError::Exhausted(failures))
    }
}

/// Records a leg's failure, or ends the turn on model misbehaviour.
fn fail(
    model_id: &str,
    error: LlmError,
    failures: &mut Vec<ModelFailure>,
) -> Result<(), TurnError> {
    if !error.is_provider_failure() {
        return Err(TurnError::Misbehaved(error));
    }
    tracing::warn!(model = model_id, error = %error, "agent model failed");
    failures.push(ModelFailure::from_error(model_id, &error));
    Ok(())
}
