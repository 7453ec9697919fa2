//! /rag/*: indexing documents (markdown and OpenAPI chunkers), retrieval
//! (exact vector search, BM25 and their fusion) and source management, on
//! either database (operations-ai spec §4). Vectors are stored in the
//! database as bytes and searched in process.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

mod docs;
pub mod index;
mod repo;
mod routes;
pub mod schemas;
pub(crate) mod service;
pub mod settings;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::index))
        .routes(routes!(routes::retrieve))
        .routes(routes!(routes::sources))
        .routes(routes!(routes::delete_source))
        .routes(routes!(routes::index_project_docs))
}
