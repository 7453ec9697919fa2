//! /jobs: asynchronous train / predict / backtest / batch jobs, queued in
//! the `job` table and run by background workers (`crate::jobs`).

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod params;
pub mod repo;
mod routes;
pub mod schemas;
pub mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::submit, routes::list))
        .routes(routes!(routes::get, routes::cancel))
}
