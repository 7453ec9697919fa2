//! `/explain/*`: why a model forecasts what it does. Every model explains
//! itself through [`forecastlab_core::FittedModel::explain`] (rule-based
//! drivers for baselines, exact components for linear models, exact
//! TreeSHAP for tree models), at any horizon step; this slice adds the
//! series' context (reason codes, confidence, caveats, a four-sentence
//! summary) and stores every explanation.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod compose;
pub mod repo;
mod routes;
pub mod schemas;
pub mod service;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::explain_forecast))
        .routes(routes!(routes::explain_run))
        .routes(routes!(routes::explain_job))
}
