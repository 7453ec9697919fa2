//! Indexing, retrieval and source management (spec §4.6).

use std::{sync::Arc, time::Instant};

use axum::http::StatusCode;
use chrono::Utc;
use forecastlab_core::{
    ai::EmbeddingProvider,
    rag::{chunk_markdown, chunk_openapi, reciprocal_rank_fusion, Chunk, VectorIndex},
    CoreError,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{
    docs::{self, DiscoverError, ReadError},
    generations,
    index::Snapshot,
    repo::{self, GenerationChunks, NewChunk, SavedSource},
    schemas::{
        DeleteResponse, FileResult, FileStatus, IndexRequest, IndexResponse, IndexStatus,
        ProjectDocsRequest, ProjectDocsResponse, RetrieveFilters, RetrieveMode, RetrieveRequest,
        RetrieveResponse, RetrievedChunk, SourceInfo, SourceType, SourcesResponse,
    },
    settings::default_threshold,
    stored::encode_vector,
};
use crate::{db::Db, features::config::live::EmbeddingConfig, problem::Problem, state::AppState};

/// The RRF constant.
const RRF_K: f32 = 60.0;
/// Candidates each ranking contributes to a hybrid search, at least.
const HYBRID_POOL: usize = 50;

/// 502 for any embedding failure (spec §4.5).
fn embedding_problem(error: CoreError) -> Problem {
    Problem::new(
        StatusCode::BAD_GATEWAY,
        "EMBEDDING_ERROR",
        format!("Embedding generation failed: {error}"),
    )
}

fn elapsed_ms(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The embedder of `config` (the configured one or the serving one).
pub(crate) fn embedder(
    state: &AppState,
    config: &EmbeddingConfig,
) -> Result<Arc<dyn EmbeddingProvider>, Problem> {
    state
        .ai
        .embedder_for(&state.settings.rag, config)
        .map_err(embedding_problem)
}

/// Embeds `texts` and checks the answer: one vector per text, each of the
/// embedder's dimension, L2-normalised here (whatever the provider does)
/// so that a dot product is the cosine.
pub(crate) async fn embed(
    embedder: &dyn EmbeddingProvider,
    texts: &[String],
) -> Result<Vec<Vec<f32>>, Problem> {
    let mut vectors = embedder.embed(texts).await.map_err(embedding_problem)?;
    if vectors.len() != texts.len() {
        return Err(embedding_problem(CoreError::provider(format!(
            "{} vectors for {} texts",
            vectors.len(),
            texts.len()
        ))));
    }
    for vector in &mut vectors {
        if vector.len() != embedder.dimension() || vector.iter().any(|x| !x.is_finite()) {
            return Err(embedding_problem(CoreError::provider(format!(
                "a vector of length {} (expected {}) or with non-finite values",
                vector.len(),
                embedder.dimension()
            ))));
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
    }
    Ok(vectors)
}

/// What indexing one text did.
#[derive(Debug, Clone)]
pub(crate) struct Indexed {
    pub(crate) source_id: String,
    pub(crate) status: IndexStatus,
    pub(crate) chunks: u64,
    pub(crate) tokens: u64,
}

/// Whether a source whose content is unchanged already holds complete
/// chunks of every generation `written` (and of no other): same number of
/// chunks in each (a source's chunks of one generation are written in one
/// transaction).
fn is_current(counts: &[(Option<String>, Option<i32>, i64)], written: &[(String, usize)]) -> bool {
    let count_of = |(label, dimension): &(String, usize)| {
        counts
            .iter()
            .find(|(l, d, _)| l.as_deref() == Some(label) && *d == Some(*dimension as i32))
            .map(|(_, _, n)| *n)
    };
    let total: i64 = counts.iter().map(|(_, _, n)| n).sum();
    if total == 0 {
        return true;
    }
    let wanted: Vec<Option<i64>> = written.iter().map(count_of).collect();
    wanted.iter().all(|n| n.is_some() && *n == wanted[0])
        && wanted.iter().flatten().sum::<i64>() == total
}

/// Indexes one text under `(source_type, source_path)`: unchanged when the
/// content hash matches and the source holds chunks of every generation
/// written (the serving embedder's and, while a re-index is pending, the
/// configured one's); otherwise chunked, embedded by each and stored in
/// one transaction.
pub(crate) async fn index_text(
    state: &AppState,
    source_type: SourceType,
    source_path: &str,
    content: String,
    metadata: Option<Value>,
) -> Result<Indexed, Problem> {
    let hash = hex::encode(Sha256::digest(content.as_bytes()));
    let generations = generations::current(state).await?;
    let written = generations.written();
    let embedders = written
        .iter()
        .map(|config| embedder(state, config))
        .collect::<Result<Vec<_>, _>>()?;
    let existing = repo::find_source(&state.db, source_type.as_str(), source_path).await?;
    if let Some(existing) = &existing {
        if existing.content_hash == hash {
            let counts = repo::generation_counts(&state.db, existing.id).await?;
            let labels: Vec<(String, usize)> = written.iter().map(|c| c.generation()).collect();
            if is_current(&counts, &labels) {
                return Ok(Indexed {
                    source_id: existing.source_id.clone(),
                    status: IndexStatus::Unchanged,
                    chunks: counts.iter().map(|(_, _, n)| *n).max().unwrap_or(0) as u64,
                    tokens: 0,
                });
            }
        }
    }
    let settings = state.settings.rag.chunks;
    let chunks: Vec<Chunk> = tokio::task::spawn_blocking(move || match source_type {
        SourceType::Markdown => chunk_markdown(&content, &settings),
        SourceType::Openapi => chunk_openapi(&content, &settings),
    })
    .await?;
    let texts: Vec<String> = chunks.iter().map(|chunk| chunk.content.clone()).collect();
    let tokens: u64 = chunks.iter().map(|chunk| chunk.token_count as u64).sum();
    let mut sets = Vec::with_capacity(written.len());
    for (config, embedder) in written.iter().zip(&embedders) {
        let vectors = if texts.is_empty() {
            Vec::new()
        } else {
            embed(embedder.as_ref(), &texts).await?
        };
        sets.push(GenerationChunks {
            embedder: config.label(),
            dimension: embedder.dimension() as i32,
            chunks: chunks
                .iter()
                .zip(&vectors)
                .map(|(chunk, vector)| NewChunk {
                    chunk_id: uuid::Uuid::new_v4().simple().to_string(),
                    token_count: i32::try_from(chunk.token_count).unwrap_or(i32::MAX),
                    content: chunk.content.clone(),
                    metadata: chunk.metadata.clone(),
                    embedding: encode_vector(vector),
                })
                .collect(),
        });
    }
    for set in &sets {
        state
            .search
            .ensure_generation(&state.db, &set.embedder, set.dimension.max(0) as usize)
            .await?;
    }
    let source_id = existing
        .as_ref()
        .map(|existing| existing.source_id.clone())
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    repo::save_source(
        &state.db,
        &SavedSource {
            existing: existing.as_ref().map(|existing| existing.id),
            source_id: &source_id,
            source_type: source_type.as_str(),
            source_path,
            content_hash: &hash,
            metadata: metadata.as_ref(),
            generations: &sets,
            now: Utc::now(),
            vector_column: state.search.writes_vector_column(),
        },
    )
    .await?;
    Ok(Indexed {
        source_id,
        status: if existing.is_some() {
            IndexStatus::Updated
        } else {
            IndexStatus::Indexed
        },
        chunks: chunks.len() as u64,
        tokens,
    })
}

fn read_problem(error: &ReadError, path: &str) -> Problem {
    match error {
        ReadError::NotFound | ReadError::Outside => Problem::not_found(error.message(path)),
        ReadError::NotUtf8 | ReadError::TooLarge(_) => Problem::bad_request(error.message(path)),
        ReadError::Io(_) => Problem::internal(error.message(path)),
    }
}

/// `POST /rag/index`.
pub(crate) async fn index(
    state: &AppState,
    request: IndexRequest,
) -> Result<IndexResponse, Problem> {
    let start = Instant::now();
    let content = match request.content {
        Some(content) => content,
        None => {
            let root = state.settings.rag.project_root.clone();
            let path = request.source_path.clone();
            let limit = state.settings.max_body_bytes as u64;
            tokio::task::spawn_blocking(move || docs::read_confined(&root, &path, limit))
                .await?
                .map_err(|error| read_problem(&error, &request.source_path))?
        }
    };
    let indexed = index_text(
        state,
        request.source_type,
        &request.source_path,
        content,
        request.metadata.map(Value::Object),
    )
    .await?;
    Ok(IndexResponse {
        source_id: indexed.source_id,
        source_path: request.source_path,
        chunks_created: indexed.chunks,
        tokens_processed: indexed.tokens,
        duration_ms: elapsed_ms(start),
        status: indexed.status,
    })
}

fn accepts(filters: &Option<RetrieveFilters>, snapshot: &Snapshot, row: usize) -> bool {
    let Some(filters) = filters else {
        return true;
    };
    let chunk = &snapshot.chunks[row];
    filters
        .source_type
        .as_ref()
        .is_none_or(|filter| filter.accepts(&chunk.source_type))
        && filters
            .category
            .as_ref()
            .is_none_or(|category| chunk.category.as_deref() == Some(category.as_str()))
}

/// Ranks chunk rows for `mode`: `(row, relevance 0–1)`, best first, at
/// most `pool` of them. Blocking (rayon inside).
fn rank(
    snapshot: &Snapshot,
    mode: RetrieveMode,
    query: &str,
    vector: Option<(&[f32], &str)>,
    filters: &Option<RetrieveFilters>,
    pool: usize,
) -> Vec<(usize, f64)> {
    let keep = |row: usize| accepts(filters, snapshot, row);
    let by_vector = || -> Vec<(usize, f64)> {
        let Some((query_vector, label)) = vector else {
            return Vec::new();
        };
        let Some(set) = snapshot.vectors(label, query_vector.len()) else {
            return Vec::new();
        };
        set.index
            .search(query_vector, pool, &|i| keep(set.rows[i]))
            .into_iter()
            .map(|hit| (set.rows[hit.row], f64::from(hit.score).clamp(0.0, 1.0)))
            .collect()
    };
    let by_words = || -> Vec<(usize, f64)> {
        snapshot
            .bm25
            .search(query, pool, &keep)
            .into_iter()
            .map(|hit| {
                let score = f64::from(hit.score);
                (hit.row, score / (score + 1.0))
            })
            .collect()
    };
    match mode {
        RetrieveMode::Vector => by_vector(),
        RetrieveMode::Lexical => by_words(),
        RetrieveMode::Hybrid => {
            let vector_rows: Vec<usize> = by_vector().into_iter().map(|(row, _)| row).collect();
            let word_rows: Vec<usize> = by_words().into_iter().map(|(row, _)| row).collect();
            let best = 2.0 / (RRF_K + 1.0);
            reciprocal_rank_fusion(&[vector_rows, word_rows], RRF_K)
                .into_iter()
                .map(|hit| (hit.row, f64::from(hit.score / best).clamp(0.0, 1.0)))
                .collect()
        }
    }
}

/// `POST /rag/retrieve`.
pub(crate) async fn retrieve(
    state: &AppState,
    request: RetrieveRequest,
) -> Result<RetrieveResponse, Problem> {
    let mode = request.mode.unwrap_or_default();
    let top_k = request.top_k as usize;
    let serving = generations::current(state).await?.serving;
    let threshold = request
        .similarity_threshold
        .or(state.settings.rag.similarity_threshold)
        .unwrap_or_else(|| default_threshold(&serving.provider));
    let embed_start = Instant::now();
    let query_vector = if mode == RetrieveMode::Lexical {
        None
    } else {
        let embedder = embedder(state, &serving)?;
        let mut vectors = embed(embedder.as_ref(), std::slice::from_ref(&request.query)).await?;
        Some((vectors.pop().unwrap_or_default(), serving.label()))
    };
    let query_embedding_time_ms = if query_vector.is_some() {
        elapsed_ms(embed_start)
    } else {
        0.0
    };
    let search_start = Instant::now();
    let pool = match mode {
        RetrieveMode::Hybrid => (2 * top_k).max(HYBRID_POOL),
        _ => 2 * top_k,
    };
    let (ranked, total_chunks_searched) = match (&state.db, state.search.pgvector(), &query_vector)
    {
        // A zero query has no direction (pgvector's cosine distance is
        // then undefined): the exact path scores it 0 against everything.
        (Db::Postgres(db), Some(pgvector), Some((vector, label)))
            if mode == RetrieveMode::Vector && vector.iter().any(|x| *x != 0.0) =>
        {
            let found = pgvector
                .search(db, label, vector, &request.filters, pool)
                .await?;
            (found.ranked, found.total)
        }
        _ => {
            let snapshot = state
                .search
                .current(&state.db, serving.generation())
                .await?;
            let query = request.query;
            let filters = request.filters;
            let ranked_snapshot = snapshot.clone();
            let ranked = tokio::task::spawn_blocking(move || {
                let vector = query_vector
                    .as_ref()
                    .map(|(vector, label)| (vector.as_slice(), label.as_str()));
                rank(&ranked_snapshot, mode, &query, vector, &filters, pool)
            })
            .await?;
            let ranked = ranked
                .into_iter()
                .map(|(row, score)| (snapshot.chunks[row].clone(), score))
                .collect();
            (ranked, snapshot.total())
        }
    };
    let results = ranked
        .into_iter()
        .map(|(chunk, score)| (chunk, round4(score)))
        .filter(|(_, score)| *score >= threshold)
        .take(top_k)
        .map(|(chunk, relevance_score)| RetrievedChunk {
            chunk_id: chunk.chunk_id,
            source_id: chunk.source_id,
            source_path: chunk.source_path,
            source_type: chunk.source_type,
            content: chunk.content,
            relevance_score,
            metadata: chunk.metadata,
        })
        .collect();
    Ok(RetrieveResponse {
        results,
        query_embedding_time_ms,
        search_time_ms: elapsed_ms(search_start),
        total_chunks_searched,
        mode,
    })
}

/// `GET /rag/sources`.
pub(crate) async fn sources(state: &AppState) -> Result<SourcesResponse, Problem> {
    let rows = repo::list_sources(&state.db).await?;
    let total_chunks = rows.iter().map(|row| row.chunk_count.max(0) as u64).sum();
    let sources: Vec<SourceInfo> = rows
        .into_iter()
        .map(|row| SourceInfo {
            source_id: row.source_id,
            source_type: row.source_type,
            source_path: row.source_path,
            chunk_count: row.chunk_count.max(0) as u64,
            content_hash: row.content_hash,
            indexed_at: row.indexed_at,
            metadata: row.metadata.map(|metadata| metadata.0),
        })
        .collect();
    Ok(SourcesResponse {
        total_sources: sources.len() as u64,
        total_chunks,
        sources,
        vector_search: state.search.vector_search_name().to_owned(),
    })
}

/// `DELETE /rag/sources/{source_id}`.
pub(crate) async fn delete(state: &AppState, source_id: &str) -> Result<DeleteResponse, Problem> {
    match repo::delete_source(&state.db, source_id).await? {
        Some(chunks) => Ok(DeleteResponse {
            source_id: source_id.to_owned(),
            chunks_deleted: chunks.max(0) as u64,
            status: "deleted".to_owned(),
        }),
        None => Err(Problem::not_found(format!("Source not found: {source_id}"))),
    }
}

/// `POST /rag/index/project-docs`: every selected file through
/// [`index_text`] as markdown with `{"category": …}`; unreadable files are
/// reported and skipped, an embedding failure stops the run (502).
pub(crate) async fn index_project_docs(
    state: &AppState,
    request: ProjectDocsRequest,
) -> Result<ProjectDocsResponse, Problem> {
    let start = Instant::now();
    let root = state.settings.rag.project_root.clone();
    let files = tokio::task::spawn_blocking(move || docs::discover(&root, &request))
        .await?
        .map_err(|error| match error {
            DiscoverError::PrefixOutside => Problem::invalid_field(
                "path_prefix",
                "path_prefix must stay inside the project root",
                "value_error",
            ),
            DiscoverError::Root(error) => {
                Problem::internal(format!("the project root cannot be read: {error}"))
            }
        })?;
    let limit = state.settings.max_body_bytes as u64;
    let mut results = Vec::with_capacity(files.len());
    for file in files {
        let reading = file.clone();
        let content = tokio::task::spawn_blocking(move || docs::read_doc(&reading, limit)).await?;
        let result = match content {
            Err(error) => FileResult {
                source_path: file.relative.clone(),
                status: FileStatus::Failed,
                chunks_created: 0,
                error: Some(error.message(&file.relative)),
            },
            Ok(content) => {
                let mut metadata = Map::new();
                metadata.insert("category".into(), Value::from(file.category));
                let indexed = index_text(
                    state,
                    SourceType::Markdown,
                    &file.relative,
                    content,
                    Some(Value::Object(metadata)),
                )
                .await?;
                FileResult {
                    source_path: file.relative.clone(),
                    status: match indexed.status {
                        IndexStatus::Indexed => FileStatus::Indexed,
                        IndexStatus::Updated => FileStatus::Updated,
                        IndexStatus::Unchanged => FileStatus::Unchanged,
                    },
                    chunks_created: indexed.chunks,
                    error: None,
                }
            }
        };
        results.push(result);
    }
    let count = |status: FileStatus| results.iter().filter(|r| r.status == status).count() as u64;
    Ok(ProjectDocsResponse {
        total_files: results.len() as u64,
        indexed: count(FileStatus::Indexed),
        updated: count(FileStatus::Updated),
        unchanged: count(FileStatus::Unchanged),
        failed: count(FileStatus::Failed),
        total_chunks: results.iter().map(|r| r.chunks_created).sum(),
        duration_ms: elapsed_ms(start),
        results,
    })
}
