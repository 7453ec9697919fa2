//! One module per API slice; each exposes `router()`, merged here.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod catalog;
pub mod health;

/// Every slice's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(catalog::router())
}
