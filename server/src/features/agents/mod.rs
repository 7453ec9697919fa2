//! /agents/*: sessions with the experiment agent (registry and backtests
//! through tools, mutations held for human approval) and the RAG
//! assistant, over LLM providers with a fallback chain, token and cost
//! accounting, and an audit of every tool call; `WS /agents/stream`
//! streams the same chat.

use axum::routing::get;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub(crate) mod chain;
mod cost;
mod repo;
mod routes;
mod runner;
pub mod schemas;
pub mod service;
pub mod settings;
mod stream;
mod tools;
mod ws_routes;

/// The routes of this slice (`/agents/stream` is a WebSocket, not an
/// OpenAPI operation).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::create_session))
        .routes(routes!(routes::get_session, routes::delete_session))
        .routes(routes!(routes::chat))
        .routes(routes!(routes::approve))
        .routes(routes!(routes::tool_calls))
        .route("/agents/stream", get(ws_routes::stream))
}
