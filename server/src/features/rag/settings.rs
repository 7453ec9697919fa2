//! Settings of the RAG slice (operations-ai spec §8), read once at start.
//! The embedding provider, model and dimension can also be changed live
//! through `PATCH /config/ai`; those are read through
//! [`crate::features::config::live`], never from here after start-up.

use std::{path::PathBuf, time::Duration};

use anyhow::bail;
use forecastlab_core::rag::ChunkSettings;

use crate::env::Env;

/// Embedding providers a configuration may name.
pub const PROVIDERS: [&str; 4] = ["lexical", "openai", "ollama", "local"];
/// Default `RAG_EMBEDDING_PROVIDER`: works offline with nothing configured.
pub const DEFAULT_PROVIDER: &str = "lexical";
/// Default `RAG_EMBEDDING_MODEL` (OpenAI's).
pub const DEFAULT_MODEL: &str = "text-embedding-3-small";
/// Default `RAG_EMBEDDING_DIMENSION`.
pub const DEFAULT_DIMENSION: usize = 1536;
/// Default `OLLAMA_EMBEDDING_MODEL`.
pub const DEFAULT_OLLAMA_MODEL: &str = "nomic-embed-text";

/// Everything the RAG slice reads from the environment.
#[derive(Debug, Clone)]
pub struct RagSettings {
    /// `RAG_EMBEDDING_PROVIDER`: lexical (default), openai, ollama, local.
    pub embedding_provider: String,
    /// `RAG_EMBEDDING_MODEL` (OpenAI's model).
    pub embedding_model: String,
    /// `RAG_EMBEDDING_DIMENSION` (≥ 1; the local embedder needs 384).
    pub embedding_dimension: usize,
    /// `OLLAMA_EMBEDDING_MODEL`.
    pub ollama_embedding_model: String,
    /// `RAG_EMBEDDING_BATCH_SIZE`: texts per provider request (1–2048).
    pub embedding_batch_size: usize,
    /// `RAG_EMBEDDING_RETRY_BASE_MS`: first back-off after a 429 (doubled
    /// on each of the 3 retries).
    pub embedding_retry_base: Duration,
    /// `RAG_CHUNK_SIZE`, `RAG_CHUNK_OVERLAP`, `RAG_MIN_CHUNK_SIZE` (tokens).
    pub chunks: ChunkSettings,
    /// `RAG_SIMILARITY_THRESHOLD` (0–1): the retrieve default; when unset,
    /// the embedder's own default (see [`default_threshold`]).
    pub similarity_threshold: Option<f64>,
    /// `RAG_PROJECT_ROOT`: the directory file reads are confined to and
    /// project docs are found in (default: the working directory).
    pub project_root: PathBuf,
    /// `RAG_VECTOR_SEARCH`: `auto` (default) searches vectors in SQL with
    /// pgvector when the PostgreSQL server has the `vector` extension;
    /// `exact` always searches them in process.
    pub vector_search: VectorSearch,
    /// `RAG_HNSW_EF_SEARCH` (1–1000, default 100): the candidate list of a
    /// pgvector HNSW search, raised to twice the rows asked for when that
    /// is more. Higher finds the true nearest chunks more often, slower.
    pub hnsw_ef_search: usize,
}

/// How vector retrieval is answered (`RAG_VECTOR_SEARCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VectorSearch {
    /// pgvector when available (PostgreSQL with the `vector` extension),
    /// else exact search in process.
    #[default]
    Auto,
    /// Always exact search in process.
    Exact,
}

/// The retrieve threshold when neither the request nor
/// `RAG_SIMILARITY_THRESHOLD` gives one: 0.7 (the upstream's) for the
/// model embedders of OpenAI and Ollama, 0.3 for the local MiniLM, 0.05 for
/// the lexical embedder, whose cosines are much smaller.
pub fn default_threshold(provider: &str) -> f64 {
    match provider {
        "lexical" => 0.05,
        "local" => 0.3,
        _ => 0.7,
    }
}

impl RagSettings {
    pub(crate) fn from_env(env: &Env<'_>) -> anyhow::Result<RagSettings> {
        let embedding_provider = env.string("RAG_EMBEDDING_PROVIDER", DEFAULT_PROVIDER);
        if !PROVIDERS.contains(&embedding_provider.as_str()) {
            bail!(
                "RAG_EMBEDDING_PROVIDER must be one of {}, not {embedding_provider:?}",
                PROVIDERS.join(", ")
            );
        }
        let embedding_dimension: usize = env.parse("RAG_EMBEDDING_DIMENSION", DEFAULT_DIMENSION)?;
        if embedding_dimension == 0 {
            bail!("RAG_EMBEDDING_DIMENSION must be at least 1");
        }
        let embedding_batch_size: usize = env.parse("RAG_EMBEDDING_BATCH_SIZE", 100)?;
        if !(1..=2048).contains(&embedding_batch_size) {
            bail!("RAG_EMBEDDING_BATCH_SIZE must be between 1 and 2048");
        }
        let chunks = ChunkSettings {
            chunk_size: env.parse("RAG_CHUNK_SIZE", 512)?,
            overlap: env.parse("RAG_CHUNK_OVERLAP", 50)?,
            min_chunk_size: env.parse("RAG_MIN_CHUNK_SIZE", 100)?,
        };
        if chunks.chunk_size == 0 {
            bail!("RAG_CHUNK_SIZE must be at least 1");
        }
        let hnsw_ef_search: usize = env.parse("RAG_HNSW_EF_SEARCH", 100)?;
        if !(1..=1000).contains(&hnsw_ef_search) {
            bail!("RAG_HNSW_EF_SEARCH must be between 1 and 1000");
        }
        let similarity_threshold: Option<f64> = env.optional("RAG_SIMILARITY_THRESHOLD")?;
        if similarity_threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
            bail!("RAG_SIMILARITY_THRESHOLD must be between 0 and 1");
        }
        Ok(RagSettings {
            embedding_provider,
            embedding_model: env.string("RAG_EMBEDDING_MODEL", DEFAULT_MODEL),
            embedding_dimension,
            ollama_embedding_model: env.string("OLLAMA_EMBEDDING_MODEL", DEFAULT_OLLAMA_MODEL),
            embedding_batch_size,
            embedding_retry_base: Duration::from_millis(
                env.parse("RAG_EMBEDDING_RETRY_BASE_MS", 1000)?,
            ),
            chunks,
            similarity_threshold,
            project_root: PathBuf::from(env.string("RAG_PROJECT_ROOT", ".")),
            vector_search: match env.string("RAG_VECTOR_SEARCH", "auto").as_str() {
                "auto" => VectorSearch::Auto,
                "exact" => VectorSearch::Exact,
                other => bail!("RAG_VECTOR_SEARCH must be auto or exact, not {other:?}"),
            },
            hnsw_ef_search,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<RagSettings> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let lookup = |name: &str| map.get(name).map(|value| (*value).to_owned());
        RagSettings::from_env(&Env(&lookup))
    }

    #[test]
    fn defaults_work_offline() {
        let settings = read(&[]).unwrap();
        assert_eq!(settings.embedding_provider, "lexical");
        assert_eq!(settings.embedding_dimension, 1536);
        assert_eq!(settings.chunks, ChunkSettings::default());
        assert_eq!(settings.similarity_threshold, None);
        assert_eq!(settings.project_root, PathBuf::from("."));
        assert_eq!(default_threshold("openai"), 0.7);
        assert_eq!(settings.vector_search, VectorSearch::Auto);
        assert_eq!(settings.hnsw_ef_search, 100);
        let exact = read(&[("RAG_VECTOR_SEARCH", "exact")]).unwrap();
        assert_eq!(exact.vector_search, VectorSearch::Exact);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (name, value) in [
            ("RAG_EMBEDDING_PROVIDER", "cohere"),
            ("RAG_EMBEDDING_DIMENSION", "0"),
            ("RAG_EMBEDDING_BATCH_SIZE", "5000"),
            ("RAG_SIMILARITY_THRESHOLD", "1.5"),
            ("RAG_CHUNK_SIZE", "0"),
            ("RAG_VECTOR_SEARCH", "hnsw"),
            ("RAG_HNSW_EF_SEARCH", "0"),
            ("RAG_HNSW_EF_SEARCH", "1001"),
        ] {
            let message = read(&[(name, value)]).unwrap_err().to_string();
            assert!(message.contains(name), "{message}");
        }
    }
}
