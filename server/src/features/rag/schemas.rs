//! Request and response types of `/rag`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::extract::{Validate, Violations};

/// Longest retrieve query, in characters.
pub const MAX_QUERY_CHARS: usize = 2000;
/// Longest `source_path`, in characters.
pub const MAX_PATH_CHARS: usize = 500;

/// What a source is, which decides its chunker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    /// Heading-aware markdown chunks.
    Markdown,
    /// One chunk per API operation (JSON or YAML; anything else is
    /// chunked as markdown).
    Openapi,
}

impl SourceType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Markdown => "markdown",
            SourceType::Openapi => "openapi",
        }
    }
}

/// `POST /rag/index`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexRequest {
    /// `markdown` or `openapi`.
    pub source_type: SourceType,
    /// The source's name (1–500 characters); when `content` is absent, a
    /// file path relative to the project root, read as UTF-8 (paths that
    /// leave the root are refused as not found).
    #[schema(min_length = 1, max_length = 500)]
    pub source_path: String,
    /// The text to index; read from `source_path` when absent.
    #[serde(default)]
    pub content: Option<String>,
    /// Stored with the source (`category` is what retrieve filters on).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

impl Validate for IndexRequest {
    fn validate(&self, v: &mut Violations) {
        v.length("source_path", &self.source_path, 1, MAX_PATH_CHARS);
    }
}

/// What indexing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IndexStatus {
    /// A new source.
    Indexed,
    /// An existing source with new content (or a new embedder): its chunks
    /// were replaced.
    Updated,
    /// Same content, same embedder: nothing written.
    Unchanged,
}

/// Result of `POST /rag/index`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndexResponse {
    /// 32-hex id of the source.
    pub source_id: String,
    /// As given.
    pub source_path: String,
    /// Chunks now stored for the source.
    pub chunks_created: u64,
    /// Tokens embedded (0 when unchanged).
    pub tokens_processed: u64,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// `indexed`, `updated` or `unchanged`.
    pub status: IndexStatus,
}

/// Retrieval ranking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RetrieveMode {
    /// Cosine similarity of embeddings (exact search).
    #[default]
    Vector,
    /// BM25 over the chunks' words.
    Lexical,
    /// Both rankings fused by reciprocal rank fusion.
    Hybrid,
}

impl RetrieveMode {
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            RetrieveMode::Vector => "vector",
            RetrieveMode::Lexical => "lexical",
            RetrieveMode::Hybrid => "hybrid",
        }
    }
}

/// One source type or several.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SourceTypeFilter {
    /// One type.
    One(String),
    /// Any of these types.
    Many(Vec<String>),
}

impl SourceTypeFilter {
    /// Whether `source_type` passes.
    pub fn accepts(&self, source_type: &str) -> bool {
        match self {
            SourceTypeFilter::One(one) => one == source_type,
            SourceTypeFilter::Many(many) => many.iter().any(|t| t == source_type),
        }
    }
}

/// Retrieve filters; other keys are ignored.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RetrieveFilters {
    /// Source type, or a list of them.
    #[serde(default)]
    pub source_type: Option<SourceTypeFilter>,
    /// The source metadata's `category` (project docs: docs, prp, root).
    #[serde(default)]
    pub category: Option<String>,
}

/// `filters` as an object or null (serde would also read a struct from an
/// array, which the schema does not allow).
fn filters_object<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RetrieveFilters>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Object(_)) => serde_json::from_value(value)
            .map(Some)
            .map_err(D::Error::custom),
        Some(_) => Err(D::Error::custom("invalid type: expected an object")),
    }
}

/// `POST /rag/retrieve`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrieveRequest {
    /// The question (1–2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub query: String,
    /// Results to return (1–50, default 5).
    #[serde(default = "default_top_k")]
    #[schema(minimum = 1, maximum = 50, default = 5)]
    pub top_k: u32,
    /// Lowest `relevance_score` kept (0–1); null → `RAG_SIMILARITY_THRESHOLD`
    /// or the embedder's default.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub similarity_threshold: Option<f64>,
    /// Restrict by `source_type` and/or `category`.
    #[serde(default, deserialize_with = "filters_object")]
    pub filters: Option<RetrieveFilters>,
    /// `vector` (default), `lexical` or `hybrid`.
    #[serde(default)]
    pub mode: Option<RetrieveMode>,
}

fn default_top_k() -> u32 {
    5
}

impl Validate for RetrieveRequest {
    fn validate(&self, v: &mut Violations) {
        v.length("query", &self.query, 1, MAX_QUERY_CHARS);
        v.range("top_k", self.top_k, 1, 50);
        if let Some(threshold) = self.similarity_threshold {
            v.range("similarity_threshold", threshold, 0.0, 1.0);
        }
    }
}

/// One retrieved chunk; cite it by `source_path` and `chunk_id` (and the
/// heading in `metadata`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetrievedChunk {
    /// 32-hex chunk id.
    pub chunk_id: String,
    /// 32-hex source id.
    pub source_id: String,
    /// The source's path.
    pub source_path: String,
    /// `markdown` or `openapi`.
    pub source_type: String,
    /// The chunk's text.
    pub content: String,
    /// 0–1, higher is closer (4 decimals). Vector: cosine similarity;
    /// lexical: BM25 score s as s / (s + 1); hybrid: the fused score over
    /// its maximum.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub relevance_score: f64,
    /// `{heading, section_path}` or the operation's description.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Result of `POST /rag/retrieve`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetrieveResponse {
    /// Best first.
    pub results: Vec<RetrievedChunk>,
    /// Time to embed the query (0 in lexical mode).
    pub query_embedding_time_ms: f64,
    /// Time to rank the chunks.
    pub search_time_ms: f64,
    /// Every chunk stored (unfiltered).
    pub total_chunks_searched: u64,
    /// The ranking used.
    pub mode: RetrieveMode,
}

/// One indexed source.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceInfo {
    /// 32-hex id.
    pub source_id: String,
    /// `markdown` or `openapi`.
    pub source_type: String,
    /// Its path.
    pub source_path: String,
    /// Chunks stored.
    pub chunk_count: u64,
    /// SHA-256 of the content.
    pub content_hash: String,
    /// Last (re-)indexed.
    pub indexed_at: DateTime<Utc>,
    /// As given at indexing.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Result of `GET /rag/sources`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourcesResponse {
    /// Most recently indexed first.
    pub sources: Vec<SourceInfo>,
    /// Number of sources.
    pub total_sources: u64,
    /// Number of chunks.
    pub total_chunks: u64,
    /// How vector retrieval is answered: `pgvector` (in SQL over HNSW
    /// indexes, on a PostgreSQL server with the `vector` extension) or
    /// `exact` (in process).
    pub vector_search: String,
}

/// Result of `DELETE /rag/sources/{source_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeleteResponse {
    /// The deleted source.
    pub source_id: String,
    /// Its chunks, deleted with it.
    pub chunks_deleted: u64,
    /// Always `deleted`.
    #[schema(pattern = "^deleted$")]
    pub status: String,
}

/// `POST /rag/index/project-docs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectDocsRequest {
    /// Every `*.md` under `docs/` (or under `path_prefix`), category `docs`.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub include_docs: bool,
    /// Every `*.md` under `PRPs/`, category `prp`.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub include_prps: bool,
    /// `README.md`, `AGENTS.md`, `CHANGELOG.md` at the root, category `root`.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub include_root: bool,
    /// A directory under the root to index instead of `docs/` (≤ 200
    /// characters); one that leaves the root is a 422.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub path_prefix: Option<String>,
}

fn yes() -> bool {
    true
}

impl Validate for ProjectDocsRequest {
    fn validate(&self, v: &mut Violations) {
        if let Some(prefix) = &self.path_prefix {
            v.length("path_prefix", prefix, 0, 200);
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// New source.
    Indexed,
    /// Re-indexed.
    Updated,
    /// Already current.
    Unchanged,
    /// Could not be read (see `error`).
    Failed,
}

/// One file of a project-docs run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileResult {
    /// POSIX path relative to the root.
    pub source_path: String,
    /// What happened.
    pub status: FileStatus,
    /// Chunks stored for the file.
    pub chunks_created: u64,
    /// Why it failed; null otherwise.
    pub error: Option<String>,
}

/// Result of `POST /rag/index/project-docs`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectDocsResponse {
    /// One entry per file, sorted by path.
    pub results: Vec<FileResult>,
    /// Files found.
    pub total_files: u64,
    /// New sources.
    pub indexed: u64,
    /// Re-indexed sources.
    pub updated: u64,
    /// Sources already current.
    pub unchanged: u64,
    /// Files that could not be read.
    pub failed: u64,
    /// Chunks stored for the files.
    pub total_chunks: u64,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
}

/// `POST /rag/reindex`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReindexRequest {
    /// Wait until the re-index has finished (200, or 502 when the
    /// provider fails) instead of running it in the background (202).
    #[serde(default)]
    #[schema(default = false)]
    pub wait: bool,
}

impl Validate for ReindexRequest {}

/// An embedder generation: the chunks one embedder made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GenerationInfo {
    /// `lexical`, `openai`, `ollama` or `local`.
    pub provider: String,
    /// The model the provider runs.
    pub model: String,
    /// Vector length.
    #[schema(minimum = 1)]
    pub dimension: u64,
    /// `provider:model`, as stored beside each vector.
    pub label: String,
    /// Chunks of this generation stored now.
    pub chunks: u64,
}

/// Where a change of embedder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReindexState {
    /// The configured embedder serves and made every chunk.
    Idle,
    /// Sources still need chunks of the configured embedder; the previous
    /// one serves until a re-index completes.
    Pending,
    /// A re-index runs in this process.
    Running,
    /// The last re-index failed (see `error`); the previous embedder
    /// still serves and a new re-index resumes where it stopped.
    Failed,
}

/// Result of `GET /rag/reindex` and `POST /rag/reindex`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReindexStatus {
    /// `idle`, `pending`, `running` or `failed`.
    pub state: ReindexState,
    /// The generation retrieval reads.
    pub serving: GenerationInfo,
    /// The configured embedder's generation, which a re-index builds.
    pub target: GenerationInfo,
    /// Sources indexed.
    pub sources_total: u64,
    /// Sources with chunks of the target generation (or with no chunks).
    pub sources_ready: u64,
    /// When the last re-index of this process started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Chunks of older generations it deleted when it switched over.
    pub chunks_deleted: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}
