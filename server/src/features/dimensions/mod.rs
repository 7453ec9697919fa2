//! /dimensions/*: stores and products with pagination, filters, search and allow-listed sorting.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
