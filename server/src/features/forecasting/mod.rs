//! `/forecasting/train` and `/forecasting/predict`: fit any registered model
//! on one series, save it as a versioned artifact, forecast from it.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod feature_aware;
mod routes;
pub mod schemas;
pub mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::train))
        .routes(routes!(routes::predict))
}
