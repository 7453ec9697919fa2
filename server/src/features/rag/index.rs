//! The in-process search index: every stored chunk with its source, the
//! vectors of each embedder in an [`ExactIndex`] (one contiguous buffer),
//! and a BM25 index over the words. Loaded from the database when first
//! needed and reloaded whenever the chunk table's stamp (row count and
//! highest row id) has changed, so indexing and deleting — in this process
//! or another sharing the database — are seen by the next search.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
};

use forecastlab_core::rag::{Bm25Index, ExactIndex};
use serde_json::Value;
use tokio::sync::Mutex;

use super::{
    pgvector::{Detected, PgVector},
    repo::{self, ChunkRow},
    stored::{decode_vector, ChunkInfo},
};
use crate::{db::Db, problem::Problem};

/// The vectors of one embedder: `rows[i]` is the chunk of vector `i`.
#[derive(Debug)]
pub(crate) struct VectorSet {
    pub(crate) index: ExactIndex,
    pub(crate) rows: Vec<usize>,
}

/// A loaded copy of every chunk of one generation per source: the serving
/// embedder's when the source has chunks of it, else those of the
/// embedder that made its first chunk (so that a source is never counted
/// or found twice while a re-index holds two generations).
#[derive(Debug)]
pub(crate) struct Snapshot {
    stamp: (i64, i64),
    serving: (String, usize),
    pub(crate) chunks: Vec<ChunkInfo>,
    /// Keyed by `(embedder, dimension)`.
    vectors: HashMap<(String, usize), VectorSet>,
    pub(crate) bm25: Bm25Index,
}

impl Snapshot {
    /// Number of chunks searched (one generation per source).
    pub(crate) fn total(&self) -> u64 {
        self.chunks.len() as u64
    }

    /// The vectors made by `embedder` at `dimension`, if any.
    pub(crate) fn vectors(&self, embedder: &str, dimension: usize) -> Option<&VectorSet> {
        self.vectors.get(&(embedder.to_owned(), dimension))
    }

    fn build(stamp: (i64, i64), serving: (String, usize), rows: Vec<ChunkRow>) -> Snapshot {
        let generation = |row: &ChunkRow| (row.embedder.clone(), row.dimension);
        let wanted = (Some(serving.0.clone()), Some(serving.1 as i32));
        let mut chosen: HashMap<String, (Option<String>, Option<i32>)> = HashMap::new();
        for row in &rows {
            let entry = chosen
                .entry(row.source_id.clone())
                .or_insert_with(|| generation(row));
            if generation(row) == wanted {
                *entry = wanted.clone();
            }
        }
        let rows: Vec<ChunkRow> = rows
            .into_iter()
            .filter(|row| chosen.get(&row.source_id) == Some(&generation(row)))
            .collect();
        let mut chunks = Vec::with_capacity(rows.len());
        let mut vectors: HashMap<(String, usize), VectorSet> = HashMap::new();
        let mut bm25 = Bm25Index::new();
        for (position, row) in rows.into_iter().enumerate() {
            bm25.push(&row.content);
            if let (Some(bytes), Some(embedder), Some(dimension)) =
                (&row.embedding, &row.embedder, row.dimension)
            {
                let dimension = dimension.max(0) as usize;
                if dimension > 0 && bytes.len() == dimension * 4 {
                    let vector = decode_vector(bytes);
                    let set = vectors
                        .entry((embedder.clone(), dimension))
                        .or_insert_with(|| VectorSet {
                            index: ExactIndex::new(dimension),
                            rows: Vec::new(),
                        });
                    if set.index.push(&vector).is_ok() {
                        set.rows.push(position);
                    }
                }
            }
            let category = row
                .source_metadata
                .as_ref()
                .and_then(|metadata| metadata.0.get("category"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            chunks.push(ChunkInfo {
                chunk_id: row.chunk_id,
                source_id: row.source_id,
                source_path: row.source_path,
                source_type: row.source_type,
                content: row.content,
                metadata: row.metadata.map(|metadata| metadata.0),
                category,
            });
        }
        Snapshot {
            stamp,
            serving,
            chunks,
            vectors,
            bm25,
        }
    }
}

/// The current snapshot, shared by every request of the process, and the
/// vector search path chosen at start ([`super::pgvector`]).
#[derive(Debug, Default)]
pub struct SearchCache {
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    /// Whether `document_chunk.embedding_vec` exists, so writes fill it.
    vector_column: AtomicBool,
    /// Set when vector retrieval runs in SQL.
    pgvector: OnceLock<PgVector>,
}

impl SearchCache {
    /// Records what start-up found.
    pub(crate) fn set_detected(&self, detected: Detected) {
        self.vector_column.store(detected.column, Ordering::Relaxed);
        if let Some(pgvector) = detected.pgvector {
            let _ = self.pgvector.set(pgvector);
        }
    }

    /// Whether chunk writes must fill `embedding_vec` too.
    pub(crate) fn writes_vector_column(&self) -> bool {
        self.vector_column.load(Ordering::Relaxed)
    }

    /// The pgvector path, when vector retrieval runs in SQL.
    pub(crate) fn pgvector(&self) -> Option<&PgVector> {
        self.pgvector.get()
    }

    /// Makes sure the HNSW index of the generation `(embedder, dimension)`
    /// exists, when vector search runs in SQL (once per process and
    /// generation).
    pub(crate) async fn ensure_generation(
        &self,
        db: &Db,
        embedder: &str,
        dimension: usize,
    ) -> Result<(), sqlx::Error> {
        match (db, self.pgvector()) {
            (Db::Postgres(pool), Some(pgvector)) => {
                pgvector.ensure_index(pool, embedder, dimension).await
            }
            _ => Ok(()),
        }
    }

    /// `pgvector` or `exact`: how vector retrieval is answered.
    pub(crate) fn vector_search_name(&self) -> &'static str {
        if self.pgvector().is_some() {
            "pgvector"
        } else {
            "exact"
        }
    }

    /// The snapshot matching the database now for the `serving`
    /// generation, reloading it (off the async runtime) when chunks were
    /// added or removed since, or another generation serves.
    pub(crate) async fn current(
        &self,
        db: &Db,
        serving: (String, usize),
    ) -> Result<Arc<Snapshot>, Problem> {
        let stamp = repo::chunk_stamp(db).await?;
        let mut slot = self.snapshot.lock().await;
        if let Some(snapshot) = slot.as_ref() {
            if snapshot.stamp == stamp && snapshot.serving == serving {
                return Ok(snapshot.clone());
            }
        }
        let rows = repo::all_chunks(db).await?;
        // Chunks written between the two queries are in `rows` but not in
        // the stamp: the next search sees a new stamp and reloads.
        let snapshot = Arc::new(
            tokio::task::spawn_blocking(move || Snapshot::build(stamp, serving, rows)).await?,
        );
        *slot = Some(snapshot.clone());
        Ok(snapshot)
    }
}
