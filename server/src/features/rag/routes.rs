//! HTTP handlers of `/rag`.

use axum::{extract::State, http::StatusCode, Json as JsonResponse};

use super::{
    schemas::{
        DeleteResponse, IndexRequest, IndexResponse, ProjectDocsRequest, ProjectDocsResponse,
        RetrieveRequest, RetrieveResponse, SourcesResponse,
    },
    service,
};
use crate::{
    extract::{Json, Path},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Chunks, embeds and stores a document (markdown, or an OpenAPI document
/// in JSON or YAML — anything else is chunked as markdown). Idempotent by
/// content hash: `indexed` (new), `updated` (chunks replaced), `unchanged`
/// (same content and embedder: nothing written). Without `content` the
/// file at `source_path` is read, confined to the project root: 404 when it
/// is missing or resolves outside the root, 400 when it is not UTF-8 text.
/// 502 when the embedding provider fails; the source's previous chunks are
/// then left as they were.
#[utoipa::path(post, path = "/rag/index", tag = "rag", request_body = IndexRequest,
    responses(
        (status = 201, description = "Indexed (or already current)", body = IndexResponse),
        (status = 400, description = "The file is not UTF-8 text, or too large", body = ProblemBody),
        (status = 404, description = "No such file under the project root", body = ProblemBody),
        (status = 502, description = "The embedding provider failed", body = ProblemBody)))]
pub(crate) async fn index(
    State(state): State<AppState>,
    Json(body): Json<IndexRequest>,
) -> Result<(StatusCode, JsonResponse<IndexResponse>), Problem> {
    Ok((
        StatusCode::CREATED,
        JsonResponse(service::index(&state, body).await?),
    ))
}

/// The chunks closest to a query: `vector` (cosine similarity of
/// embeddings, exact search), `lexical` (BM25) or `hybrid` (both fused by
/// reciprocal rank fusion). Results under `similarity_threshold` are
/// dropped. Filters: `source_type` (one or a list), `category`.
/// 502 when the query cannot be embedded.
#[utoipa::path(post, path = "/rag/retrieve", tag = "rag", request_body = RetrieveRequest,
    responses(
        (status = 200, description = "Best chunks first", body = RetrieveResponse),
        (status = 502, description = "The embedding provider failed", body = ProblemBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Json(body): Json<RetrieveRequest>,
) -> Result<JsonResponse<RetrieveResponse>, Problem> {
    Ok(JsonResponse(service::retrieve(&state, body).await?))
}

/// Every indexed source with its chunk count, most recently indexed first.
#[utoipa::path(get, path = "/rag/sources", tag = "rag",
    responses((status = 200, description = "Indexed sources", body = SourcesResponse)))]
pub(crate) async fn sources(
    State(state): State<AppState>,
) -> Result<JsonResponse<SourcesResponse>, Problem> {
    Ok(JsonResponse(service::sources(&state).await?))
}

/// Deletes a source and its chunks.
#[utoipa::path(delete, path = "/rag/sources/{source_id}", tag = "rag",
    params(("source_id" = String, Path, description = "32-hex source id")),
    responses(
        (status = 200, description = "Deleted", body = DeleteResponse),
        (status = 404, description = "No such source", body = ProblemBody)))]
pub(crate) async fn delete_source(
    State(state): State<AppState>,
    Path(source_id): Path<String>,
) -> Result<JsonResponse<DeleteResponse>, Problem> {
    Ok(JsonResponse(service::delete(&state, &source_id).await?))
}

/// Indexes the project's own documentation: `docs/` (or `path_prefix`),
/// `PRPs/` and the root README, AGENTS and CHANGELOG, each as markdown with
/// its `category`. A file that cannot be read is reported as `failed` and
/// the run goes on; an embedding failure stops it (502). 422 when
/// `path_prefix` leaves the project root.
#[utoipa::path(post, path = "/rag/index/project-docs", tag = "rag",
    request_body = ProjectDocsRequest,
    responses(
        (status = 200, description = "What happened to each file", body = ProjectDocsResponse),
        (status = 502, description = "The embedding provider failed", body = ProblemBody)))]
pub(crate) async fn index_project_docs(
    State(state): State<AppState>,
    Json(body): Json<ProjectDocsRequest>,
) -> Result<JsonResponse<ProjectDocsResponse>, Problem> {
    Ok(JsonResponse(
        service::index_project_docs(&state, body).await?,
    ))
}
