//! `GET /export/*`: stores, products, calendar days, daily sales, inventory
//! snapshots, promotions and prices as streamed CSV attachments whose
//! columns are the fields of the matching bulk upsert, so data can leave
//! and come back (`PUT /dimensions/*`, `POST /ingest/*`) unchanged.

mod repo;
mod routes;
mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::stores))
        .routes(routes!(routes::products))
        .routes(routes!(routes::calendar))
        .routes(routes!(routes::sales_daily))
        .routes(routes!(routes::inventory))
        .routes(routes!(routes::promotions))
        .routes(routes!(routes::prices))
}
