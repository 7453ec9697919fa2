//! Retrieval quality over this project's own README: 32 questions, each
//! labelled with the heading whose section answers it. The README is
//! chunked as `/rag/index` does (markdown, 512 / 50 / 100 tokens), embedded
//! with the lexical embedder (1536 dimensions, the default), and each
//! question ranked the three ways `/rag/retrieve` ranks (`vector`: exact
//! cosine; `lexical`: BM25; `hybrid`: reciprocal rank fusion of both, 50
//! candidates each, k = 60). A question is answered when one of its top 5
//! chunks belongs to the labelled section (the chunk starts that section or
//! carries its heading). Prints recall@5 per mode (`--nocapture`).

use forecastlab_core::rag::{
    chunk_markdown, reciprocal_rank_fusion, Bm25Index, Chunk, ChunkSettings, ExactIndex,
    VectorIndex,
};
use forecastlab_embed_lexical::embed_text;

const DIMENSION: usize = 1536;
const TOP: usize = 5;

const QUESTIONS: [(&str, &str); 32] = [
    (
        "What is ForecastLab and what does it forecast?",
        "ForecastLab",
    ),
    (
        "Which environment variables configure the server and database?",
        "Configuration",
    ),
    (
        "How do I run against PostgreSQL instead of SQLite?",
        "PostgreSQL",
    ),
    (
        "Which subcommands does the forecastlab command line have?",
        "Command line",
    ),
    (
        "How are sales rows loaded with bulk upserts?",
        "Data in: bulk upserts",
    ),
    (
        "How do API keys, scopes and bearer tokens work?",
        "Authentication",
    ),
    ("Where are Prometheus metrics exposed?", "Metrics"),
    (
        "What happens when a request times out or its body is too large?",
        "Limits, timeouts and failure behaviour",
    ),
    (
        "What must a new route declare so schemathesis passes?",
        "Adding a route",
    ),
    ("Which pages does the web dashboard have?", "Dashboard"),
    (
        "Which libraries draw the dashboard charts and how is it built?",
        "How it is built",
    ),
    (
        "How are the browser tests run with chromedriver?",
        "Browser tests",
    ),
    (
        "How is the repository laid out into crates and folders?",
        "Layout",
    ),
    (
        "Which statistical models such as Croston and Theta exist?",
        "Statistical models and scale-free metrics",
    ),
    (
        "How are MASE, RMSSE and WRMSSE computed?",
        "MASE, RMSSE and WRMSSE",
    ),
    (
        "How does accuracy and speed compare with statsforecast?",
        "Accuracy and speed against statsforecast",
    ),
    (
        "How do I enable the LightGBM, XGBoost and random forest models?",
        "Opt-in models",
    ),
    (
        "Which LLM providers are supported for the agents?",
        "LLM providers",
    ),
    (
        "How are LLM backends tested against local protocol servers?",
        "Testing against local protocol servers",
    ),
    (
        "How do what-if scenarios and forecast explanations work?",
        "Scenarios and explanations",
    ),
    (
        "How does the human approval gate of agent sessions work?",
        "Agents",
    ),
    (
        "How do I install ONNX Runtime for the local MiniLM embedder?",
        "Local embedder (opt-in)",
    ),
    (
        "How do I index documents and retrieve passages with RAG?",
        "RAG",
    ),
    (
        "Which embedding provider is the default and which others exist?",
        "Embedders",
    ),
    (
        "How do I change the agent model at runtime without a restart?",
        "Runtime AI config",
    ),
    (
        "How do I write my own model plugin crate?",
        "Write your own model plugin",
    ),
    (
        "How fast are the global models and regression?",
        "Global models and `regression` speed",
    ),
    (
        "How are the benchmarks run and what do they measure?",
        "Benchmarks",
    ),
    ("What does the CI script run before a merge?", "CI"),
    (
        "Which checks does schemathesis run in CI and what are the exceptions?",
        "Schemathesis in CI",
    ),
    ("Why were axum, sqlx and utoipa chosen?", "Design notes"),
    (
        "How are API keys masked in the runtime configuration?",
        "Runtime AI config",
    ),
];

/// Whether `chunk` belongs to the section headed `heading`.
fn in_section(chunk: &Chunk, heading: &str) -> bool {
    let starts_it = chunk
        .content
        .lines()
        .any(|line| line.trim_start_matches('#').trim() == heading && line.starts_with('#'));
    let carries_it = chunk
        .metadata
        .as_ref()
        .and_then(|m| m["heading"].as_str())
        .is_some_and(|h| h == heading);
    starts_it || carries_it
}

#[test]
fn recall_at_5_over_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../README.md"))
            .expect("the project README");
    let chunks = chunk_markdown(&readme, &ChunkSettings::default());
    assert!(chunks.len() > 30, "{} chunks", chunks.len());
    let mut vectors = ExactIndex::with_capacity(DIMENSION, chunks.len());
    let mut words = Bm25Index::new();
    for chunk in &chunks {
        vectors
            .push(&embed_text(&chunk.content, DIMENSION))
            .unwrap();
        words.push(&chunk.content);
    }
    for (_, heading) in QUESTIONS {
        assert!(
            chunks.iter().any(|chunk| in_section(chunk, heading)),
            "no chunk of section {heading:?}: the label is stale"
        );
    }
    let mut hits = [0usize; 3];
    for (question, heading) in QUESTIONS {
        let query = embed_text(question, DIMENSION);
        let by_vector: Vec<usize> = vectors
            .search(&query, 50, &|_| true)
            .into_iter()
            .map(|hit| hit.row)
            .collect();
        let by_words: Vec<usize> = words
            .search(question, 50, &|_| true)
            .into_iter()
            .map(|hit| hit.row)
            .collect();
        let fused: Vec<usize> =
            reciprocal_rank_fusion(&[by_vector.clone(), by_words.clone()], 60.0)
                .into_iter()
                .map(|hit| hit.row)
                .collect();
        for (mode, ranking) in [by_vector, by_words, fused].iter().enumerate() {
            if ranking
                .iter()
                .take(TOP)
                .any(|&row| in_section(&chunks[row], heading))
            {
                hits[mode] += 1;
            }
        }
    }
    let n = QUESTIONS.len() as f64;
    let recall = hits.map(|h| h as f64 / n);
    println!(
        "recall@5 over {} README chunks, {} questions: vector {:.3}, lexical {:.3}, hybrid {:.3}",
        chunks.len(),
        QUESTIONS.len(),
        recall[0],
        recall[1],
        recall[2]
    );
    assert!(
        recall[2] >= recall[0].max(recall[1]),
        "hybrid {:.3} must be at least the best single mode ({:.3}, {:.3})",
        recall[2],
        recall[0],
        recall[1]
    );
}
