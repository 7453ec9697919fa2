//! Retrieval-augmented generation building blocks: token counting,
//! markdown and OpenAPI chunkers, exact vector search, BM25 and rank
//! fusion. No I/O: the server's `rag` slice stores and serves them.

pub mod bm25;
pub mod markdown;
pub mod openapi;
pub mod search;
pub mod tokens;

pub use bm25::Bm25Index;
pub use markdown::chunk_markdown;
pub use openapi::chunk_openapi;
pub use search::{dot, reciprocal_rank_fusion, ExactIndex, Hit, VectorIndex};

/// One chunk of a document, ready to embed.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The chunk's text (stripped).
    pub content: String,
    /// Its `cl100k_base` token count.
    pub token_count: usize,
    /// `{heading, section_path}` (markdown) or the operation's description
    /// (OpenAPI); `None` when there is nothing to say.
    pub metadata: Option<serde_json::Value>,
}

/// Chunk sizes in tokens (`RAG_CHUNK_SIZE`, `RAG_CHUNK_OVERLAP`,
/// `RAG_MIN_CHUNK_SIZE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSettings {
    /// Largest chunk (512).
    pub chunk_size: usize,
    /// Tokens of a flushed chunk repeated at the start of the next (50).
    pub overlap: usize,
    /// Smallest trailing chunk kept when other chunks exist (100).
    pub min_chunk_size: usize,
}

impl Default for ChunkSettings {
    fn default() -> Self {
        Self {
            chunk_size: 512,
            overlap: 50,
            min_chunk_size: 100,
        }
    }
}
