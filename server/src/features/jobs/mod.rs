//! /jobs: asynchronous train / predict / backtest jobs.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
