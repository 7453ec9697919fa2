//! /config/*: the runtime AI configuration (operations-ai spec §6). Agent
//! models, sampling, the embedder and provider keys can be changed live;
//! changes persist in `app_config` and are applied without a restart.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod live;
mod repo;
mod routes;
pub mod schemas;
pub mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::get_ai, routes::patch_ai))
        .routes(routes!(routes::providers_health))
        .routes(routes!(routes::ollama_models))
}
