//! /ops/*: a read-only view of the model fleet from the registry and jobs
//! data — counts, stale aliases with their reason, retraining candidates
//! and per-alias model health. The rules live in [`rules`] (pure, unit
//! tested) and are described in the README ("Ops summary").

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

mod repo;
mod routes;
pub mod rules;
pub mod schemas;
mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::summary))
        .routes(routes!(routes::retraining_candidates))
        .routes(routes!(routes::model_health))
}
