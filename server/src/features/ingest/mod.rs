//! POST /ingest/sales-daily: batch upsert of daily sales with natural-key resolution.

mod repo;
mod routes;
mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(routes::ingest_sales_daily))
}
