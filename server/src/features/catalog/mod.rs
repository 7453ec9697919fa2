//! `GET /forecasting/models`: every model this server knows, whether it is
//! compiled in, enabled by its flag, and its family. Beyond the upstream,
//! which has no listing.

use axum::{extract::State, Json};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    models::{catalog, ModelInfo},
    state::AppState,
};

/// The model catalog.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelCatalog {
    /// One entry per model type, sorted by name.
    pub models: Vec<ModelInfo>,
    /// Number of entries.
    pub total: usize,
}

/// The catalog routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_models))
}

/// Lists every known model type with compiled-in / enabled / family.
#[utoipa::path(get, path = "/forecasting/models", tag = "forecasting",
    responses((status = 200, description = "Model catalog", body = ModelCatalog)))]
async fn list_models(State(state): State<AppState>) -> Json<ModelCatalog> {
    let models = catalog(&state.settings);
    Json(ModelCatalog {
        total: models.len(),
        models,
    })
}
