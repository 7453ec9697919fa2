//! POST /ingest/sales-daily: batch upsert of daily sales with natural-key
//! resolution; POST /ingest/{promotions,price-history,inventory-snapshots}:
//! the same for the other facts.

mod facts;
mod routes;
mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::ingest_sales_daily))
        .routes(routes!(facts::ingest_promotions))
        .routes(routes!(facts::ingest_price_history))
        .routes(routes!(facts::ingest_inventory_snapshots))
}
