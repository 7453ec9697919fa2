//! Decoding a provider's server-sent events into [`LlmEvent`]s.

use std::collections::VecDeque;

use forecastlab_core::ai::{LlmError, LlmEvent, LlmStream, SecretScrubber};
use futures::{Stream, StreamExt};

/// One server-sent event (`event:` name, `data:` text, …).
pub use eventsource_stream::Event as SseEvent;

/// How a backend reads its stream: each event becomes zero or more
/// [`LlmEvent`]s. The stream ends after the first [`LlmEvent::Done`] or the
/// first error.
pub trait SseDecoder: Send + 'static {
    /// The events `event` stands for.
    fn decode(&mut self, event: &SseEvent) -> Result<Vec<LlmEvent>, LlmError>;

    /// The events owed when the provider closed the stream before any
    /// `Done`: by default an error, since every provider marks the end.
    fn finish(&mut self) -> Result<Vec<LlmEvent>, LlmError> {
        Err(LlmError::connection(
            "the provider closed the stream before the response was complete",
            &SecretScrubber::default(),
        ))
    }
}

/// Everything the decoding stream carries between polls.
struct DecodeState<S, D> {
    events: S,
    decoder: D,
    pending: VecDeque<LlmEvent>,
    ended: bool,
}

/// Turns `events` into an [`LlmStream`] with `decoder`.
pub fn decode_stream<S, D>(events: S, decoder: D) -> LlmStream
where
    S: Stream<Item = Result<SseEvent, LlmError>> + Send + Unpin + 'static,
    D: SseDecoder,
{
    let state = DecodeState {
        events,
        decoder,
        pending: VecDeque::new(),
        ended: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.pending.pop_front() {
                if matches!(event, LlmEvent::Done { .. }) {
                    state.ended = true;
                    state.pending.clear();
                }
                return Some((Ok(event), state));
            }
            if state.ended {
                return None;
            }
            let decoded = match state.events.next().await {
                Some(Ok(event)) => state.decoder.decode(&event),
                Some(Err(error)) => Err(error),
                None => {
                    state.ended = true;
                    state.decoder.finish()
                }
            };
            match decoded {
                Ok(events) => state.pending.extend(events),
                Err(error) => {
                    state.ended = true;
                    return Some((Err(error), state));
                }
            }
        }
    })
    .boxed()
}
