//! SQL of the RAG slice: `document_source` and `document_chunk`. Every
//! statement is written once for both dialects. Vectors are stored as
//! little-endian `f32` bytes (BLOB / bytea) beside the embedder's name and
//! their dimension (and, when pgvector is set up, copied into a `vector`
//! column by the same insert).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::stored::{decode_vector, vector_literal};
use crate::{
    db::{BeginWrite, Db},
    with_db,
};

/// The identity of an existing source.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SourceKey {
    pub(crate) id: i32,
    pub(crate) source_id: String,
    pub(crate) content_hash: String,
}

/// A chunk to store.
#[derive(Debug, Clone)]
pub(crate) struct NewChunk {
    pub(crate) chunk_id: String,
    pub(crate) content: String,
    pub(crate) token_count: i32,
    pub(crate) metadata: Option<Value>,
    pub(crate) embedding: Vec<u8>,
}

/// The chunks of one source made by one embedder.
#[derive(Debug, Clone)]
pub(crate) struct GenerationChunks {
    /// The embedder's label (`provider:model`).
    pub(crate) embedder: String,
    pub(crate) dimension: i32,
    pub(crate) chunks: Vec<NewChunk>,
}

/// A source to create or replace, with all its chunks.
#[derive(Debug, Clone)]
pub(crate) struct SavedSource<'a> {
    pub(crate) existing: Option<i32>,
    pub(crate) source_id: &'a str,
    pub(crate) source_type: &'a str,
    pub(crate) source_path: &'a str,
    pub(crate) content_hash: &'a str,
    pub(crate) metadata: Option<&'a Value>,
    /// One set per generation written (the serving one and, while a
    /// re-index is pending, the new one).
    pub(crate) generations: &'a [GenerationChunks],
    pub(crate) now: DateTime<Utc>,
    /// Whether to fill the pgvector column too.
    pub(crate) vector_column: bool,
}

/// A row of `GET /rag/sources`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SourceRow {
    pub(crate) source_id: String,
    pub(crate) source_type: String,
    pub(crate) source_path: String,
    pub(crate) content_hash: String,
    pub(crate) metadata: Option<Json<Value>>,
    pub(crate) indexed_at: DateTime<Utc>,
    pub(crate) chunk_count: i64,
}

/// A chunk with its source, as the search index holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChunkRow {
    pub(crate) chunk_id: String,
    pub(crate) content: String,
    pub(crate) embedding: Option<Vec<u8>>,
    pub(crate) embedder: Option<String>,
    pub(crate) dimension: Option<i32>,
    pub(crate) metadata: Option<Json<Value>>,
    pub(crate) source_id: String,
    pub(crate) source_path: String,
    pub(crate) source_type: String,
    pub(crate) source_metadata: Option<Json<Value>>,
}

pub(crate) async fn find_source(
    db: &Db,
    source_type: &str,
    source_path: &str,
) -> Result<Option<SourceKey>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as::<_, SourceKey>(
            "SELECT id, source_id, content_hash FROM document_source \
             WHERE source_type = $1 AND source_path = $2",
        )
        .bind(source_type)
        .bind(source_path)
        .fetch_optional(pool)
        .await
    })
}

/// `(embedder, dimension, chunks)` of each generation a source has chunks
/// of.
pub(crate) async fn generation_counts(
    db: &Db,
    id: i32,
) -> Result<Vec<(Option<String>, Option<i32>, i64)>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as(
            "SELECT embedder, dimension, COUNT(*) FROM document_chunk WHERE source_id = $1 \
             GROUP BY embedder, dimension",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })
}

/// Creates or replaces a source and all its chunks in one transaction: on
/// any failure nothing changes, so the previous chunks stay searchable.
pub(crate) async fn save_source(db: &Db, saved: &SavedSource<'_>) -> Result<(), sqlx::Error> {
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let id: i32 = match saved.existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE document_source SET content_hash = $2, metadata = $3, \
                     indexed_at = $4, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(saved.content_hash)
                .bind(saved.metadata.map(Json))
                .bind(saved.now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM document_chunk WHERE source_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO document_source (source_id, source_type, source_path, \
                     content_hash, metadata, indexed_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING id",
                )
                .bind(saved.source_id)
                .bind(saved.source_type)
                .bind(saved.source_path)
                .bind(saved.content_hash)
                .bind(saved.metadata.map(Json))
                .bind(saved.now)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        for generation in saved.generations {
            for (index, chunk) in generation.chunks.iter().enumerate() {
                let mut insert = sqlx::query(insert_chunk_sql(saved.vector_column))
                    .bind(&chunk.chunk_id)
                    .bind(id)
                    .bind(index as i32)
                    .bind(&chunk.content)
                    .bind(&chunk.embedding)
                    .bind(chunk.token_count)
                    .bind(chunk.metadata.as_ref().map(Json))
                    .bind(&generation.embedder)
                    .bind(generation.dimension)
                    .bind(saved.now);
                if saved.vector_column {
                    insert = insert.bind(vector_literal(&decode_vector(&chunk.embedding)));
                }
                insert.execute(&mut *tx).await?;
            }
        }
        tx.commit().await
    })
}

/// Inserts one chunk: `chunk_id, source row id, chunk_index, content,
/// embedding, token_count, metadata, embedder, dimension, now`.
const INSERT_CHUNK: &str = "INSERT INTO document_chunk (chunk_id, source_id, chunk_index, \
    content, embedding, token_count, metadata, embedder, dimension, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";

/// [`INSERT_CHUNK`] that also fills the pgvector column from `$11` (the
/// vector's text form, see [`super::pgvector`]).
const INSERT_CHUNK_VECTOR: &str = "INSERT INTO document_chunk (chunk_id, source_id, \
    chunk_index, content, embedding, token_count, metadata, embedder, dimension, created_at, \
    updated_at, embedding_vec) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, CAST($11 AS vector))";

/// The chunk insert: binds `chunk_id, source row id, chunk_index, content,
/// embedding, token_count, metadata, embedder, dimension, now` and, when
/// `vector_column` (the pgvector column exists), the vector's text form
/// ([`vector_literal`]) — in the same statement, so the copy is always as
/// current as the bytes.
pub(crate) fn insert_chunk_sql(vector_column: bool) -> &'static str {
    if vector_column {
        INSERT_CHUNK_VECTOR
    } else {
        INSERT_CHUNK
    }
}

/// Every source with its chunk count (of one generation: while a
/// re-index runs a source may hold the same chunks for two embedders),
/// most recently indexed first.
pub(crate) async fn list_sources(db: &Db) -> Result<Vec<SourceRow>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as::<_, SourceRow>(
            "SELECT s.source_id, s.source_type, s.source_path, s.content_hash, s.metadata, \
             s.indexed_at, COALESCE((SELECT MAX(g.n) FROM (SELECT COUNT(*) AS n \
             FROM document_chunk c WHERE c.source_id = s.id GROUP BY c.embedder, c.dimension) g), 0) \
             AS chunk_count FROM document_source s ORDER BY s.indexed_at DESC, s.id DESC",
        )
        .fetch_all(pool)
        .await
    })
}

/// Deletes a source and (by cascade) its chunks; the number of chunks
/// deleted, or `None` when there is no such source.
pub(crate) async fn delete_source(db: &Db, source_id: &str) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let id: Option<i32> =
            sqlx::query_scalar("SELECT id FROM document_source WHERE source_id = $1")
                .bind(source_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        let chunks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM document_chunk WHERE source_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM document_chunk WHERE source_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM document_source WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(chunks))
    })
}

/// `(chunk count, highest chunk row id)`: changes whenever a chunk is
/// added or removed (chunks are never updated in place), so it tells
/// whether a loaded search index is current.
pub(crate) async fn chunk_stamp(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as("SELECT COUNT(*), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM document_chunk")
            .fetch_one(pool)
            .await
    })
}

/// Every chunk with its source, in row order.
pub(crate) async fn all_chunks(db: &Db) -> Result<Vec<ChunkRow>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as::<_, ChunkRow>(
            "SELECT c.chunk_id, c.content, c.embedding, c.embedder, c.dimension, c.metadata, \
             s.source_id, s.source_path, s.source_type, s.metadata AS source_metadata \
             FROM document_chunk c JOIN document_source s ON s.id = c.source_id ORDER BY c.id",
        )
        .fetch_all(pool)
        .await
    })
}
