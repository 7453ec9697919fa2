//! `GET /health` (liveness, no database access) and `GET /health/ready`
//! (readiness: `SELECT 1`).

use axum::{extract::State, Json};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Health status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    /// `ok`, `degraded` or `unhealthy`.
    pub status: &'static str,
    /// `connected` / `disconnected` on readiness; null on liveness.
    pub database: Option<&'static str>,
}

/// The health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// Liveness probe.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process is up", body = HealthResponse)))]
async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok",
        database: None,
    })
}

/// Readiness probe: checks the database.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, description = "Database reachability", body = HealthResponse)))]
async fn ready(State(state): State<AppState>) -> Json<HealthResponse> {
    Json(match state.db.ping().await {
        Ok(()) => HealthResponse {
            status: "ok",
            database: Some("connected"),
        },
        Err(_) => HealthResponse {
            status: "unhealthy",
            database: Some("disconnected"),
        },
    })
}
