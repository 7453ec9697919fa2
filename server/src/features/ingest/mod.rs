//! POST /ingest/sales-daily: batch upsert of daily sales with natural-key resolution.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
