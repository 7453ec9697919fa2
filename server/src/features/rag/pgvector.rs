//! The pgvector search path: on a PostgreSQL server with the `vector`
//! extension, vector retrieval runs in SQL over an HNSW index instead of
//! in process.
//!
//! Design:
//! - **Detected at start, never required by a migration.** Start-up looks
//!   for `vector` in `pg_available_extensions`; when it is there (and
//!   `RAG_VECTOR_SEARCH` is not `exact`) it runs `CREATE EXTENSION IF NOT
//!   EXISTS vector` and adds the column `document_chunk.embedding_vec
//!   vector` (no fixed width). A server without the extension, and SQLite,
//!   keep the exact in-process search and never see the column.
//! - **The bytes stay the source of truth.** `embedding` (little-endian
//!   `f32`, with `embedder` and `dimension`) is still written for every
//!   chunk; `embedding_vec` is a copy written in the same statement,
//!   whenever the column exists (also by a process told to search
//!   exactly), and filled from the bytes for rows that lack it (at start,
//!   and before a search that finds such rows: a process started before
//!   the column existed does not write it). So
//!   switching paths needs no re-index, and deleting a chunk (or a source,
//!   by cascade, or a generation at switch-over) removes its vector with
//!   the row.
//! - **One partial expression index per generation.** An HNSW index needs
//!   a fixed dimension, and vectors of different embedders must never be
//!   compared, so each `(embedder, dimension)` gets its own index on
//!   `(embedding_vec::vector(D))` with `vector_cosine_ops`, `m = 16`,
//!   `ef_construction = 64`, restricted by `WHERE embedder = '…' AND
//!   dimension = D`. It is created (if missing) when a generation is first
//!   written or searched here, and for every stored generation at start.
//!   The search query repeats the predicate and the cast with the same
//!   literals, so the planner can match the partial index even in a
//!   generic plan, and the graph it walks holds exactly the serving
//!   generation — an unfiltered query never loses neighbours to a filter.
//!   Above 2000 dimensions (pgvector's limit for an HNSW index on
//!   `vector`) no index is made and the same query scans exactly.
//! - **Same answers as the exact path, up to the index's recall.** The
//!   query asks for the `2 × k` nearest by `<=>` (cosine distance) with
//!   `hnsw.ef_search` = `RAG_HNSW_EF_SEARCH` (100), or twice the rows
//!   asked for when that is more, then scores those candidates with the same
//!   `f32` dot product as the in-process index (the vectors are unit
//!   length, so this is `1 − distance` without a second rounding) and
//!   orders them by score, then row. HNSW is approximate: a true
//!   neighbour the graph walk misses is missing here too (on corpora of
//!   near-identical vectors more often); an `ef_search` at least the
//!   number of vectors of the generation walks the whole graph, which is
//!   exact. The tests compare the two paths that way, and report the
//!   recall at the default.
//! - **Filters still fill the page.** Before pgvector 0.8 (whose
//!   `hnsw.iterative_scan` is set to `strict_order` when available) an
//!   index scan stops after `ef_search` candidates even when filters
//!   (`source_type`, `category`) reject most of them: whenever fewer than
//!   `2 × k` rows come back, the query is answered again exactly (index
//!   scans off, in the same transaction), so a filtered query still
//!   returns all it should.

use std::{
    collections::HashSet,
    sync::{Mutex, PoisonError},
};

use forecastlab_core::rag::dot;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{types::Json, PgPool};

use super::{
    schemas::{RetrieveFilters, SourceTypeFilter},
    settings::{RagSettings, VectorSearch},
    stored::{decode_vector, vector_literal, ChunkInfo},
};
use crate::db::Db;

/// Largest dimension pgvector can build an HNSW index on for `vector`.
pub(crate) const HNSW_MAX_DIMENSIONS: usize = 2000;
/// The pgvector version that added `hnsw.iterative_scan`.
const ITERATIVE_SCAN_SINCE: (u32, u32, u32) = (0, 8, 0);

/// The pgvector path of one process, set at start when in use.
#[derive(Debug)]
pub(crate) struct PgVector {
    /// The installed extension's version.
    pub(crate) version: String,
    /// Whether `hnsw.iterative_scan` exists (pgvector ≥ 0.8).
    iterative_scan: bool,
    /// `RAG_HNSW_EF_SEARCH`.
    ef_search: usize,
    /// Generations whose index this process has made sure of.
    indexed: Mutex<HashSet<(String, usize)>>,
}

/// `(major, minor, patch)` of a version such as `0.6.2`; missing or
/// unreadable parts count as 0.
pub(crate) fn parse_version(version: &str) -> (u32, u32, u32) {
    let mut parts = version
        .split('.')
        .map(|part| part.trim().parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// A string as an SQL literal (standard conforming strings: quotes
/// doubled, backslashes literal).
pub(crate) fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The index name of a generation: a hash, since embedder labels may hold
/// any character and identifiers are at most 63 bytes.
pub(crate) fn index_name(embedder: &str, dimension: usize) -> String {
    let digest = Sha256::digest(format!("{embedder}\n{dimension}").as_bytes());
    format!("ix_document_chunk_hnsw_{}", &hex::encode(digest)[..16])
}

/// The `CREATE INDEX` of a generation's HNSW index, or `None` when the
/// dimension is 0 or above [`HNSW_MAX_DIMENSIONS`].
pub(crate) fn create_index_sql(embedder: &str, dimension: usize) -> Option<String> {
    if dimension == 0 || dimension > HNSW_MAX_DIMENSIONS {
        return None;
    }
    Some(format!(
        "CREATE INDEX IF NOT EXISTS {name} ON document_chunk USING hnsw \
         ((embedding_vec::vector({dimension})) vector_cosine_ops) \
         WITH (m = 16, ef_construction = 64) \
         WHERE embedder = {embedder} AND dimension = {dimension}",
        name = index_name(embedder, dimension),
        embedder = sql_literal(embedder),
    ))
}

/// The nearest-chunks query of a generation. Binds: `$1` the query vector
/// as text, `$2` the row limit, then `$3` the source types (`text[]`) when
/// `by_type`, then the category when `by_category`.
pub(crate) fn search_sql(
    embedder: &str,
    dimension: usize,
    by_type: bool,
    by_category: bool,
) -> String {
    let mut sql = format!(
        "SELECT CAST(c.id AS BIGINT) AS id, c.chunk_id, c.content, c.embedding, c.metadata, \
         s.source_id, s.source_path, s.source_type \
         FROM document_chunk c JOIN document_source s ON s.id = c.source_id \
         WHERE c.embedder = {embedder} AND c.dimension = {dimension} \
         AND c.embedding_vec IS NOT NULL",
        embedder = sql_literal(embedder),
    );
    let mut next = 3;
    if by_type {
        sql.push_str(&format!(" AND s.source_type = ANY(${next})"));
        next += 1;
    }
    if by_category {
        sql.push_str(&format!(" AND s.metadata->>'category' = ${next}"));
    }
    sql.push_str(&format!(
        " ORDER BY c.embedding_vec::vector({dimension}) <=> CAST($1 AS vector({dimension})) \
         LIMIT $2"
    ));
    sql
}

/// One round trip before a search: sets `hnsw.ef_search` (`$3`) for the
/// transaction; counts the chunks searched as the in-process snapshot
/// does (per source, those of the serving generation `$1`, `$2` when it
/// has any, else those of the generation of its first chunk); and tells
/// whether some chunk lacks its vector copy (one probe of a small partial
/// index, normally empty).
const PREPARE_SQL: &str = "SELECT set_config('hnsw.ef_search', $3, true), \
    (SELECT COUNT(*) FROM document_chunk c WHERE \
    (c.embedder = $1 AND c.dimension = $2) OR (NOT EXISTS (SELECT 1 FROM document_chunk d \
    WHERE d.source_id = c.source_id AND d.embedder = $1 AND d.dimension = $2) \
    AND EXISTS (SELECT 1 FROM document_chunk f WHERE f.id = (SELECT MIN(g.id) \
    FROM document_chunk g WHERE g.source_id = c.source_id) \
    AND f.embedder IS NOT DISTINCT FROM c.embedder \
    AND f.dimension IS NOT DISTINCT FROM c.dimension))), \
    EXISTS (SELECT 1 FROM document_chunk WHERE embedding_vec IS NULL \
    AND embedding IS NOT NULL AND dimension > 0 AND length(embedding) = 4 * dimension)";

/// `hnsw.ef_search` for a query asking for `limit` rows: the configured
/// value (`RAG_HNSW_EF_SEARCH`), or twice `limit` when that is more, at
/// most 1000 (pgvector's maximum; `limit` is at most 100).
pub(crate) fn ef_search(configured: usize, limit: usize) -> usize {
    configured.max(limit * 2).clamp(1, 1000)
}

/// Whether an error only says another process created the same object
/// first (duplicate key in the catalogue, table, column or object).
fn is_duplicate(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| matches!(code.as_ref(), "23505" | "42P07" | "42701" | "42710"))
}

async fn ddl(pool: &PgPool, sql: &str) -> Result<(), sqlx::Error> {
    match sqlx::query(sql).execute(pool).await {
        Err(error) if !is_duplicate(&error) => Err(error),
        _ => Ok(()),
    }
}

/// Whether `document_chunk.embedding_vec` exists.
async fn has_column(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE \
         table_schema = current_schema() AND table_name = 'document_chunk' \
         AND column_name = 'embedding_vec')",
    )
    .fetch_one(pool)
    .await
}

/// Fills `embedding_vec` from the bytes where it is missing (rows written
/// before the column existed, or by a process that did not know of it);
/// the number of rows filled.
async fn backfill(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut after = 0i64;
    let mut filled = 0;
    loop {
        let rows: Vec<(i64, Vec<u8>, i32)> = sqlx::query_as(
            "SELECT CAST(id AS BIGINT), embedding, dimension FROM document_chunk \
             WHERE embedding_vec IS NULL AND embedding IS NOT NULL AND dimension > 0 \
             AND length(embedding) = 4 * dimension AND id > $1 ORDER BY id LIMIT 500",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(filled);
        };
        after = last.0;
        let mut tx = pool.begin().await?;
        for (id, bytes, dimension) in &rows {
            if bytes.len() != (*dimension).max(0) as usize * 4 {
                continue;
            }
            sqlx::query(
                "UPDATE document_chunk SET embedding_vec = CAST($2 AS vector) WHERE id = $1",
            )
            .bind(*id as i32)
            .bind(vector_literal(&decode_vector(bytes)))
            .execute(&mut *tx)
            .await?;
            filled += 1;
        }
        tx.commit().await?;
    }
}

/// A small index of the rows whose vector copy is missing and can be
/// filled (normally none), so a search can check for them at the cost of
/// one probe; the same predicate as [`PREPARE_SQL`]'s and [`backfill`]'s.
const MISSING_INDEX_SQL: &str = "CREATE INDEX IF NOT EXISTS ix_document_chunk_vec_missing \
    ON document_chunk (id) WHERE embedding_vec IS NULL \
    AND embedding IS NOT NULL AND dimension > 0 AND length(embedding) = 4 * dimension";

/// What start-up found: whether writes keep `embedding_vec` and, when
/// vector search runs in SQL, the pgvector path.
#[derive(Debug)]
pub(crate) struct Detected {
    pub(crate) column: bool,
    pub(crate) pgvector: Option<PgVector>,
}

async fn detect(pool: &PgPool, settings: &RagSettings) -> Result<Detected, sqlx::Error> {
    let mode = settings.vector_search;
    let column = has_column(pool).await?;
    let exact = Detected {
        column,
        pgvector: None,
    };
    if mode == VectorSearch::Exact {
        tracing::info!("RAG vector search: exact, in process (RAG_VECTOR_SEARCH=exact)");
        return Ok(exact);
    }
    let available: Option<String> = sqlx::query_scalar(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'",
    )
    .fetch_optional(pool)
    .await?;
    if available.is_none() {
        tracing::info!("RAG vector search: exact, in process (no pgvector on this server)");
        return Ok(exact);
    }
    if let Err(error) = ddl(pool, "CREATE EXTENSION IF NOT EXISTS vector").await {
        tracing::warn!(%error, "RAG vector search: exact, in process (cannot create the vector extension)");
        return Ok(exact);
    }
    if !column {
        ddl(
            pool,
            "ALTER TABLE document_chunk ADD COLUMN IF NOT EXISTS embedding_vec vector",
        )
        .await?;
    }
    ddl(pool, MISSING_INDEX_SQL).await?;
    let filled = backfill(pool).await?;
    let version: String =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .fetch_one(pool)
            .await?;
    let pgvector = PgVector {
        iterative_scan: parse_version(&version) >= ITERATIVE_SCAN_SINCE,
        ef_search: settings.hnsw_ef_search,
        version,
        indexed: Mutex::new(HashSet::new()),
    };
    let generations: Vec<(String, i32)> = sqlx::query_as(
        "SELECT DISTINCT embedder, dimension FROM document_chunk \
         WHERE embedder IS NOT NULL AND dimension IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    for (embedder, dimension) in generations {
        pgvector
            .ensure_index(pool, &embedder, dimension.max(0) as usize)
            .await?;
    }
    tracing::info!(
        version = %pgvector.version,
        backfilled = filled,
        "RAG vector search: pgvector (HNSW in PostgreSQL)"
    );
    Ok(Detected {
        column: true,
        pgvector: Some(pgvector),
    })
}

/// Chooses the vector search path at start (see the module docs); `None`
/// on SQLite. Never fails start-up: on an error the exact path serves,
/// with a warning.
pub(crate) async fn detect_path(db: &Db, settings: &RagSettings) -> Option<Detected> {
    let Db::Postgres(pool) = db else {
        return None;
    };
    Some(match detect(pool, settings).await {
        Ok(detected) => detected,
        Err(error) => {
            tracing::warn!(%error, "RAG vector search: exact, in process (pgvector set-up failed)");
            Detected {
                column: has_column(pool).await.unwrap_or(false),
                pgvector: None,
            }
        }
    })
}

/// One candidate row of the SQL search.
#[derive(Debug, sqlx::FromRow)]
struct Candidate {
    id: i64,
    chunk_id: String,
    content: String,
    embedding: Option<Vec<u8>>,
    metadata: Option<Json<Value>>,
    source_id: String,
    source_path: String,
    source_type: String,
}

/// What a SQL search found: the candidates best first with their cosine
/// similarity (0–1), and the number of chunks searched.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) ranked: Vec<(ChunkInfo, f64)>,
    pub(crate) total: u64,
}

impl PgVector {
    /// Creates the HNSW index of the generation `(embedder, dimension)`
    /// unless this process already made sure of it.
    pub(crate) async fn ensure_index(
        &self,
        pool: &PgPool,
        embedder: &str,
        dimension: usize,
    ) -> Result<(), sqlx::Error> {
        let key = (embedder.to_owned(), dimension);
        if self
            .indexed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&key)
        {
            return Ok(());
        }
        if let Some(sql) = create_index_sql(embedder, dimension) {
            ddl(pool, &sql).await?;
        }
        self.indexed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key);
        Ok(())
    }

    /// The `limit` chunks of generation `(embedder, query.len())` nearest
    /// to `query` among those `filters` accept, scored and ordered as the
    /// exact path does.
    pub(crate) async fn search(
        &self,
        pool: &PgPool,
        embedder: &str,
        query: &[f32],
        filters: &Option<RetrieveFilters>,
        limit: usize,
    ) -> Result<Found, sqlx::Error> {
        let dimension = query.len();
        self.ensure_index(pool, embedder, dimension).await?;
        let types: Option<Vec<String>> =
            filters
                .as_ref()
                .and_then(|f| f.source_type.as_ref())
                .map(|filter| match filter {
                    SourceTypeFilter::One(one) => vec![one.clone()],
                    SourceTypeFilter::Many(many) => many.clone(),
                });
        let category = filters.as_ref().and_then(|f| f.category.clone());
        let sql = search_sql(embedder, dimension, types.is_some(), category.is_some());
        let literal = vector_literal(query);
        let mut tx = pool.begin().await?;
        let (_, total, missing): (String, i64, bool) = sqlx::query_as(PREPARE_SQL)
            .bind(embedder)
            .bind(dimension as i32)
            .bind(ef_search(self.ef_search, limit).to_string())
            .fetch_one(&mut *tx)
            .await?;
        if missing {
            // Written by a process that started before the column existed:
            // fill the copies (committed apart, seen by this transaction's
            // next statements) before searching.
            backfill(pool).await?;
        }
        if self.iterative_scan {
            sqlx::query("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
                .execute(&mut *tx)
                .await?;
        }
        let mut exact = false;
        let rows = loop {
            let mut statement = sqlx::query_as::<_, Candidate>(&sql)
                .bind(&literal)
                .bind(limit as i64);
            if let Some(types) = &types {
                statement = statement.bind(types);
            }
            if let Some(category) = &category {
                statement = statement.bind(category);
            }
            let rows = statement.fetch_all(&mut *tx).await?;
            if rows.len() >= limit || exact {
                break rows;
            }
            sqlx::query("SELECT set_config('enable_indexscan', 'off', true)")
                .execute(&mut *tx)
                .await?;
            exact = true;
        };
        tx.commit().await?;
        Ok(Found {
            ranked: rescore(query, rows),
            total: total.max(0) as u64,
        })
    }
}

/// Scores candidates by the dot product of the stored bytes with the query
/// (as the in-process index does) and orders them best first, then by row.
fn rescore(query: &[f32], rows: Vec<Candidate>) -> Vec<(ChunkInfo, f64)> {
    let mut scored: Vec<(i64, f32, Candidate)> = rows
        .into_iter()
        .filter_map(|row| {
            let vector = decode_vector(row.embedding.as_deref()?);
            (vector.len() == query.len()).then(|| (row.id, dot(query, &vector), row))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .map(|(_, score, row)| {
            (
                ChunkInfo {
                    chunk_id: row.chunk_id,
                    source_id: row.source_id,
                    source_path: row.source_path,
                    source_type: row.source_type,
                    content: row.content,
                    metadata: row.metadata.map(|metadata| metadata.0),
                    category: None,
                },
                f64::from(score).clamp(0.0, 1.0),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(parse_version("0.6.2"), (0, 6, 2));
        assert!(parse_version("0.6.2") < ITERATIVE_SCAN_SINCE);
        assert!(parse_version("0.8.0") >= ITERATIVE_SCAN_SINCE);
        assert!(parse_version("0.10.1") >= ITERATIVE_SCAN_SINCE);
        assert_eq!(parse_version("1"), (1, 0, 0));
        assert_eq!(parse_version("x.y"), (0, 0, 0));
    }

    #[test]
    fn literals_are_quoted_and_vectors_read_back() {
        assert_eq!(
            sql_literal("openai:text-embedding-3-small"),
            "'openai:text-embedding-3-small'"
        );
        assert_eq!(
            sql_literal("it's'; DROP TABLE x; --"),
            "'it''s''; DROP TABLE x; --'"
        );
        assert_eq!(vector_literal(&[]), "[]");
        let vector = [0.1f32, -2.5, 1.0e-9, 0.333_333_34];
        let text = vector_literal(&vector);
        assert_eq!(&text[..10], "[0.1,-2.5,");
        let back: Vec<f32> = text
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(back, vector);
    }

    #[test]
    fn each_generation_gets_its_own_partial_hnsw_index() {
        let sql = create_index_sql("local:all-MiniLM-L6-v2", 384).unwrap();
        let name = index_name("local:all-MiniLM-L6-v2", 384);
        assert!(name.len() <= 63 && name.starts_with("ix_document_chunk_hnsw_"));
        assert_ne!(name, index_name("local:all-MiniLM-L6-v2", 385));
        assert_ne!(name, index_name("lexical:hashed-ngrams", 384));
        assert_eq!(
            sql,
            format!(
                "CREATE INDEX IF NOT EXISTS {name} ON document_chunk USING hnsw \
                 ((embedding_vec::vector(384)) vector_cosine_ops) \
                 WITH (m = 16, ef_construction = 64) \
                 WHERE embedder = 'local:all-MiniLM-L6-v2' AND dimension = 384"
            )
        );
        assert!(create_index_sql("o'x", 2000)
            .unwrap()
            .contains("embedder = 'o''x'"));
        assert_eq!(
            create_index_sql("openai:text-embedding-3-large", 3072),
            None
        );
        assert_eq!(create_index_sql("x", 0), None);
    }

    #[test]
    fn the_search_matches_the_index_and_numbers_its_binds() {
        let plain = search_sql("lexical:hashed-ngrams", 1536, false, false);
        assert!(plain.contains(
            "WHERE c.embedder = 'lexical:hashed-ngrams' AND c.dimension = 1536 \
             AND c.embedding_vec IS NOT NULL ORDER BY"
        ));
        assert!(plain.ends_with(
            "ORDER BY c.embedding_vec::vector(1536) <=> CAST($1 AS vector(1536)) LIMIT $2"
        ));
        assert!(!plain.contains("$3"));
        let both = search_sql("e", 8, true, true);
        assert!(both.contains("AND s.source_type = ANY($3) AND s.metadata->>'category' = $4 ORDER"));
        let category = search_sql("e", 8, false, true);
        assert!(category.contains("AND s.metadata->>'category' = $3 ORDER"));
        assert!(!category.contains("$4"));
        let hostile = search_sql("a' OR '1'='1", 8, false, false);
        assert!(hostile.contains("c.embedder = 'a'' OR ''1''=''1' AND"));
    }

    #[test]
    fn missing_copies_are_found_through_their_partial_index() {
        let predicate = "embedding_vec IS NULL AND embedding IS NOT NULL AND dimension > 0 \
                         AND length(embedding) = 4 * dimension";
        assert!(MISSING_INDEX_SQL.ends_with(&format!("WHERE {predicate}")));
        assert!(PREPARE_SQL.ends_with(&format!("WHERE {predicate})")));
    }

    #[test]
    fn ef_search_covers_the_candidates_asked_for() {
        assert_eq!(ef_search(100, 2), 100);
        assert_eq!(ef_search(100, 100), 200);
        assert_eq!(ef_search(40, 30), 60);
        assert_eq!(ef_search(1000, 10), 1000);
        assert_eq!(ef_search(100, 5000), 1000);
        for limit in 1..=100 {
            assert!(ef_search(1, limit) >= limit);
        }
    }
}
