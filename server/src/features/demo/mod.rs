//! /demo/*: the end-to-end demo pipeline (REST and WebSocket), the HITL
//! relay, and the saved showcase workspaces. The pipeline drives the
//! platform through its public routes in process ([`client`]), never the
//! slices' internals.

use axum::routing::get;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod client;
pub mod export;
pub mod health;
pub mod hitl;
pub mod knowledge;
pub mod pipeline;
pub mod planning;
pub mod repo;
mod routes;
pub mod run;
pub mod runtime;
pub mod schemas;
pub mod showcase;
pub mod steps;
pub mod workspace;
mod ws_routes;
pub mod ws_schemas;

/// The routes of this slice (`/demo/stream` is a WebSocket, not an
/// OpenAPI operation).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::run))
        .routes(routes!(routes::hitl_decision))
        .routes(routes!(ws_routes::list))
        .routes(routes!(
            ws_routes::get,
            ws_routes::update,
            ws_routes::delete
        ))
        .routes(routes!(ws_routes::workspace_health))
        .routes(routes!(ws_routes::export))
        .routes(routes!(ws_routes::approval_events))
        .route("/demo/stream", get(routes::stream))
}
