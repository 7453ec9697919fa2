//! /analytics/*: KPIs, drilldowns, time series and inventory status over
//! the sales and inventory facts.

mod money;
mod repo;
mod routes;
mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::kpis))
        .routes(routes!(routes::drilldowns))
        .routes(routes!(routes::timeseries))
        .routes(routes!(routes::inventory_status))
}
