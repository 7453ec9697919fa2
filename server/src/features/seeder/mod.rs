//! /seeder/*: synthetic retail data generation, status, reset, verification
//! and enrichment. The generators themselves live in [`crate::seeder`].

pub(crate) mod job;
mod repo;
pub(crate) mod routes;
pub(crate) mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::status))
        .routes(routes!(routes::scenarios))
        .routes(routes!(routes::generate))
        .routes(routes!(routes::append))
        .routes(routes!(routes::delete_data))
        .routes(routes!(routes::verify))
        .routes(routes!(routes::exogenous))
        .routes(routes!(routes::channels))
        .routes(routes!(routes::phase2_enrichment))
}
