//! Local stand-ins for the LLM providers, for tests.
//!
//! A [`ProviderServer`] listens on `127.0.0.1` in the test process and
//! speaks one provider's real wire protocol ([`Protocol`]): the same paths,
//! auth headers, JSON bodies, server-sent-event streams and error envelopes
//! as the provider. It answers from a queue of scripted [`Turn`]s, one per
//! request, in the format the request asked for (JSON or a stream), and
//! records every request it receives.
//!
//! ```no_run
//! use forecastlab_llm_testing::{ProviderServer, Turn};
//! use serde_json::json;
//!
//! # async fn demo() {
//! let server = ProviderServer::anthropic().await;
//! server
//!     .push(Turn::tool_call("get_run", json!({"run_id": "abc"})))
//!     .push(Turn::text("Run abc has a WAPE of 12.5 %.").with_usage(120, 30));
//!
//! // Point the backend (or the whole app) at `server.settings()`…
//! let settings = server.settings();
//! # let _ = settings;
//!
//! // …then assert on what the model was sent.
//! let second = &server.requests()[1];
//! assert_eq!(second.body["messages"][2]["content"][0]["type"], "tool_result");
//! # }
//! ```
//!
//! Scripting:
//! - replies: [`Turn::text`], [`Turn::tool_call`] (chain more with
//!   [`Turn::and_tool_call`] / [`Turn::with_text`]), token counts with
//!   [`Turn::with_usage`], how many pieces text and arguments are streamed
//!   in with [`Turn::in_pieces`] (3 by default, so argument deltas always
//!   arrive split across chunks);
//! - model misbehaviour: [`Turn::malformed_tool_call`], [`Turn::refusal`];
//! - failures: [`Turn::error`] (the provider's error envelope for any
//!   status), [`Turn::raw`] (exact bytes), [`Turn::stall`] (never answers),
//!   [`Turn::stall_after`] / [`Turn::cut_after`] (a stream that hangs or
//!   breaks after some events), and [`refused_base_url`] for a port where
//!   nothing listens.
//!
//! [`conformance`] holds the behaviour every backend must show against its
//! server; a backend crate runs it all with one
//! [`llm_conformance_tests!`] line.
//!
//! A request with a missing or wrong key gets the provider's 401 without
//! using up a turn; a request when the queue is empty gets a 500 whose
//! message says so.

pub mod conformance;
mod protocol;
mod render;
mod script;
mod server;

pub use protocol::Protocol;
pub use script::{ScriptedCall, Turn, DEFAULT_PIECES, DEFAULT_USAGE};
pub use server::{refused_base_url, ProviderServer, ReceivedRequest};
