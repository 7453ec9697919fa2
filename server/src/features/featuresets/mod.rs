//! `/featuresets/*`: time-safe feature computation and preview for one
//! series, through the core feature engine.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

mod groups;
mod routes;
pub mod schemas;
mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::compute))
        .routes(routes!(routes::preview))
}
