//! /dimensions/*: stores and products with pagination, filters, search and
//! allow-listed sorting, plus the product lifecycle curve.

mod repo;
pub(crate) mod routes;
pub(crate) mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::list_stores))
        .routes(routes!(routes::get_store))
        .routes(routes!(routes::list_products))
        .routes(routes!(routes::get_product))
        .routes(routes!(routes::lifecycle_curve))
}
