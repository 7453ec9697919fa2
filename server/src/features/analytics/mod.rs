//! /analytics/*: KPIs, drilldowns, time series and inventory status.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
