//! POST /backtesting/run: time-series cross-validation.

mod candidates;
mod feature_aware;
mod global;
mod pooled;
pub mod routes;
pub mod schemas;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(routes::run_backtest))
}
