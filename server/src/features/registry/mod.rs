//! /registry/*: model runs with their lifecycle, deployment aliases (with
//! an append-only history), artifact verification and run comparison.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod hash;
pub mod repo;
mod routes;
pub mod schemas;
pub mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::create_run, routes::list_runs))
        .routes(routes!(routes::get_run, routes::update_run))
        .routes(routes!(routes::verify_run))
        .routes(routes!(routes::upsert_alias, routes::list_aliases))
        .routes(routes!(routes::get_alias, routes::delete_alias))
        .routes(routes!(routes::alias_history))
        .routes(routes!(routes::compare))
}
