//! /rag/*: indexing documents (markdown and OpenAPI chunkers), retrieval
//! (exact vector search, BM25 and their fusion) and source management, on
//! either database (operations-ai spec §4). Vectors are stored in the
//! database as bytes and searched in process, or, on a PostgreSQL server
//! with pgvector, also in a `vector` column searched in SQL over HNSW
//! indexes ([`pgvector`]). A changed embedder is re-indexed into a new
//! generation while the previous one serves.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

mod docs;
pub(crate) mod generations;
pub mod index;
pub(crate) mod pgvector;
pub mod reindex;
pub mod reindex_tracker;
mod repo;
mod routes;
pub mod schemas;
pub(crate) mod service;
pub mod settings;
pub(crate) mod stored;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::index))
        .routes(routes!(routes::retrieve))
        .routes(routes!(routes::sources))
        .routes(routes!(routes::delete_source))
        .routes(routes!(routes::index_project_docs))
        .routes(routes!(routes::reindex_status, routes::reindex))
}
