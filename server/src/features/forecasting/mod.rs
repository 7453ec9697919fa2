//! `/forecasting/train` and `/forecasting/predict`: fit any registered model
//! on one series, save it as a versioned artifact, forecast from it;
//! `/forecasting/train-global` fits one feature-aware model across many
//! series into one artifact that `predict` serves for each of them.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod feature_aware;
pub mod global;
pub mod model;
mod routes;
pub mod schemas;
pub mod service;
pub mod stored;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::train))
        .routes(routes!(routes::predict))
        .routes(routes!(routes::train_global))
}
