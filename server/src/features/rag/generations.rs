//! Embedder generations: the chunks one embedder made (its label and
//! dimension). Retrieval reads the *serving* generation; indexing writes
//! the configured one too. After `PATCH /config/ai` changes the embedder
//! while chunks exist, the previous embedder is pinned as serving in
//! `app_config` (key [`SERVING_KEY`]) until a re-index has given every
//! source chunks of the new one; then the old chunks are deleted and the
//! pin removed, in one transaction.

use chrono::Utc;
use serde_json::{json, Value};
use sqlx::types::Json;

use super::stored::{decode_vector, vector_literal};
use crate::{
    db::{BeginWrite, Db},
    features::config::live::EmbeddingConfig,
    problem::Problem,
    state::AppState,
    with_db,
};

/// The `app_config` key holding the pinned serving embedder.
pub(crate) const SERVING_KEY: &str = "rag_serving_embedder";

/// The generation retrieval reads and the one indexing builds.
#[derive(Debug, Clone)]
pub(crate) struct Generations {
    /// Answers queries: the pinned embedder, else the configured one.
    pub(crate) serving: EmbeddingConfig,
    /// The configured embedder, which a re-index builds.
    pub(crate) target: EmbeddingConfig,
}

impl Generations {
    /// Whether the serving embedder is not the configured one.
    pub(crate) fn switching(&self) -> bool {
        self.serving.generation() != self.target.generation()
    }

    /// The embedders a new or changed source is embedded with: the
    /// serving one (so that it is found now) and, while switching, the
    /// configured one (so that it needs no re-index).
    pub(crate) fn written(&self) -> Vec<&EmbeddingConfig> {
        if self.switching() {
            vec![&self.serving, &self.target]
        } else {
            vec![&self.target]
        }
    }
}

/// The generations in force: the configured embedder and the pinned one.
pub(crate) async fn current(state: &AppState) -> Result<Generations, Problem> {
    let target = state.ai.current().embedding;
    let serving = pinned(&state.db).await?.unwrap_or_else(|| target.clone());
    Ok(Generations { serving, target })
}

/// The pinned serving embedder, if any (a row that does not parse is
/// ignored with a warning: the configured embedder then serves).
pub(crate) async fn pinned(db: &Db) -> Result<Option<EmbeddingConfig>, sqlx::Error> {
    let row: Option<Json<Value>> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT value FROM app_config WHERE key = $1")
            .bind(SERVING_KEY)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.and_then(|Json(value)| {
        serde_json::from_value(value.get("v").cloned().unwrap_or(Value::Null))
            .map_err(|error| tracing::warn!(%error, "ignoring the pinned RAG embedder"))
            .ok()
    }))
}

/// The stored value pinning `serving`.
pub(crate) fn pin_value(serving: &EmbeddingConfig) -> Value {
    json!({ "v": serving })
}

/// Chunks of generation `(label, dimension)`.
pub(crate) async fn chunks_of(db: &Db, label: &str, dimension: usize) -> Result<i64, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM document_chunk WHERE embedder = $1 AND dimension = $2",
        )
        .bind(label)
        .bind(dimension as i32)
        .fetch_one(pool)
        .await
    })
}

/// A chunk to copy into another generation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StoredChunk {
    pub(crate) chunk_index: i32,
    pub(crate) content: String,
    pub(crate) token_count: i32,
    pub(crate) metadata: Option<Json<Value>>,
}

/// A source's chunks of generation `(label, dimension)` in order.
pub(crate) async fn source_chunks(
    db: &Db,
    id: i32,
    label: Option<&str>,
    dimension: Option<i32>,
) -> Result<Vec<StoredChunk>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as::<_, StoredChunk>(
            "SELECT chunk_index, content, token_count, metadata FROM document_chunk \
             WHERE source_id = $1 AND embedder IS NOT DISTINCT FROM $2 \
             AND dimension IS NOT DISTINCT FROM $3 ORDER BY chunk_index",
        )
        .bind(id)
        .bind(label)
        .bind(dimension)
        .fetch_all(pool)
        .await
    })
}

/// Every source row id, oldest first.
pub(crate) async fn source_ids(db: &Db) -> Result<Vec<i32>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM document_source ORDER BY id")
            .fetch_all(pool)
            .await
    })
}

/// Replaces source `id`'s chunks of the generation `(label, dimension)`
/// with `chunks` (`(chunk, embedding bytes)`), in one transaction (filling
/// the pgvector column too when `vector_column`).
pub(crate) async fn replace_generation(
    db: &Db,
    id: i32,
    label: &str,
    dimension: i32,
    chunks: &[(StoredChunk, Vec<u8>)],
    vector_column: bool,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "DELETE FROM document_chunk WHERE source_id = $1 AND embedder = $2 AND dimension = $3",
        )
        .bind(id)
        .bind(label)
        .bind(dimension)
        .execute(&mut *tx)
        .await?;
        for (chunk, embedding) in chunks {
            let mut insert = sqlx::query(super::repo::insert_chunk_sql(vector_column))
                .bind(uuid::Uuid::new_v4().simple().to_string())
                .bind(id)
                .bind(chunk.chunk_index)
                .bind(&chunk.content)
                .bind(embedding)
                .bind(chunk.token_count)
                .bind(chunk.metadata.as_ref())
                .bind(label)
                .bind(dimension)
                .bind(now);
            if vector_column {
                insert = insert.bind(vector_literal(&decode_vector(embedding)));
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// Makes `(label, dimension)` the only generation, in one transaction:
/// when no source still lacks chunks of it (while having others), deletes
/// every other chunk and the pin, and returns the number of chunks
/// deleted; otherwise changes nothing and returns `None`.
pub(crate) async fn switch_over(
    db: &Db,
    label: &str,
    dimension: i32,
) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let lacking: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM document_source s WHERE EXISTS (SELECT 1 FROM document_chunk c \
             WHERE c.source_id = s.id) AND NOT EXISTS (SELECT 1 FROM document_chunk c \
             WHERE c.source_id = s.id AND c.embedder = $1 AND c.dimension = $2)",
        )
        .bind(label)
        .bind(dimension)
        .fetch_one(&mut *tx)
        .await?;
        if lacking > 0 {
            return Ok(None);
        }
        let deleted = sqlx::query(
            "DELETE FROM document_chunk WHERE embedder IS NULL OR dimension IS NULL \
             OR embedder <> $1 OR dimension <> $2",
        )
        .bind(label)
        .bind(dimension)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM app_config WHERE key = $1")
            .bind(SERVING_KEY)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(deleted as i64))
    })
}

/// `(sources, sources ready, chunks of other generations)` for the target
/// generation `(label, dimension)`: a source is ready when it has chunks
/// of it, or no chunks at all.
pub(crate) async fn progress(
    db: &Db,
    label: &str,
    dimension: i32,
) -> Result<(i64, i64, i64), sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM document_source), \
             (SELECT COUNT(*) FROM document_source s WHERE NOT EXISTS (SELECT 1 FROM \
             document_chunk c WHERE c.source_id = s.id) OR EXISTS (SELECT 1 FROM document_chunk c \
             WHERE c.source_id = s.id AND c.embedder = $1 AND c.dimension = $2)), \
             (SELECT COUNT(*) FROM document_chunk WHERE embedder IS NULL OR dimension IS NULL \
             OR embedder <> $1 OR dimension <> $2)",
        )
        .bind(label)
        .bind(dimension)
        .fetch_one(pool)
        .await
    })
}
