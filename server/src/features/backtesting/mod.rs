//! POST /backtesting/run: time-series cross-validation.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
