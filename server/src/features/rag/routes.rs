//! HTTP handlers of `/rag`.

use axum::{extract::State, http::StatusCode, Json as JsonResponse};

use super::{
    reindex,
    schemas::{
        DeleteResponse, IndexRequest, IndexResponse, ProjectDocsRequest, ProjectDocsResponse,
        ReindexRequest, ReindexStatus, RetrieveRequest, RetrieveResponse, SourcesResponse,
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

/// Where a change of embedder stands: the serving generation (which
/// retrieval reads), the configured one (which a re-index builds), how
/// many sources already have its chunks, and the last re-index's outcome.
#[utoipa::path(get, path = "/rag/reindex", tag = "rag",
    responses((status = 200, description = "Generations and progress", body = ReindexStatus)))]
pub(crate) async fn reindex_status(
    State(state): State<AppState>,
) -> Result<JsonResponse<ReindexStatus>, Problem> {
    Ok(JsonResponse(reindex::status(&state).await?))
}

/// Re-indexes every source into the configured embedder while the previous
/// one keeps serving; when all have chunks of it, it serves and the older
/// chunks are deleted. 202 when started in the background, 200 with `wait`
/// once done. 409 when every chunk was made by the configured embedder or
/// a re-index is already running; 502 (with `wait`) when the provider
/// fails — the previous embedder then still serves.
#[utoipa::path(post, path = "/rag/reindex", tag = "rag", request_body = ReindexRequest,
    responses(
        (status = 200, description = "Re-indexed and switched over (`wait`)", body = ReindexStatus),
        (status = 202, description = "Started in the background", body = ReindexStatus),
        (status = 409, description = "Nothing to re-index, or one is running", body = ProblemBody),
        (status = 502, description = "The embedding provider failed (`wait`)", body = ProblemBody)))]
pub(crate) async fn reindex(
    State(state): State<AppState>,
    Json(body): Json<ReindexRequest>,
) -> Result<(StatusCode, JsonResponse<ReindexStatus>), Problem> {
    let (status, body) = reindex::start(&state, body).await?;
    Ok((status, JsonResponse(body)))
}
