//! /dimensions/*: stores and products with pagination, filters, search and
//! allow-listed sorting, plus the product lifecycle curve, and bulk upserts
//! of stores, products and calendar days by natural key.

mod repo;
pub(crate) mod routes;
pub(crate) mod schemas;
mod service;
mod upsert;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::list_stores, upsert::upsert_stores))
        .routes(routes!(routes::get_store))
        .routes(routes!(routes::list_products, upsert::upsert_products))
        .routes(routes!(routes::get_product))
        .routes(routes!(routes::lifecycle_curve))
        .routes(routes!(upsert::upsert_calendar))
}
