//! One module per API slice; each exposes `router()`, merged here.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod agents;
pub mod analytics;
pub mod backtesting;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod dimensions;
pub mod explain;
pub mod export;
pub mod featuresets;
pub mod forecasting;
pub mod health;
pub mod ingest;
pub mod jobs;
pub mod ops;
pub mod rag;
pub mod registry;
pub mod scenarios;
pub mod seeder;

/// Every slice's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(ingest::router())
        .merge(dimensions::router())
        .merge(analytics::router())
        .merge(export::router())
        .merge(seeder::router())
        .merge(featuresets::router())
        .merge(forecasting::router())
        .merge(catalog::router())
        .merge(backtesting::router())
        .merge(registry::router())
        .merge(jobs::router())
        .merge(scenarios::router())
        .merge(explain::router())
        .merge(agents::router())
        .merge(ops::router())
        .merge(demo::router())
        .merge(rag::router())
        .merge(config::router())
}
