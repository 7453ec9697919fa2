//! Changing the embedder without downtime, over HTTP on SQLite and
//! PostgreSQL: after `PATCH /config/ai` the previous embedder's chunks
//! keep serving; `POST /rag/reindex` gives every source chunks of the new
//! embedder (an OpenAI-compatible server in the test process), then
//! switches over and deletes the old ones. A provider that fails leaves
//! the old generation serving; switching back drops the pin.

use std::time::Duration;

use forecastlab_embed_testing::{refused_base_url, EmbeddingServer, Reply, OPENAI_KEY};
use forecastlab_tests::{both_backends, pgvector_backend, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    the_old_generation_serves_until_the_new_one_is_complete,
    a_failed_reindex_keeps_the_old_generation_serving,
    reindex_requests_are_validated,
);

// Generation switches on PostgreSQL with pgvector: each generation gets its
// own HNSW index and vector column copies, searched in SQL.
pgvector_backend!(
    the_old_generation_serves_until_the_new_one_is_complete,
    a_failed_reindex_keeps_the_old_generation_serving,
);

const DOCS: [(&str, &str); 3] = [
    (
        "docs/backtesting.md",
        "# Backtesting\n\nBacktesting splits a sales series into expanding folds and \
         scores each forecast with WAPE and MAE.",
    ),
    (
        "docs/registry.md",
        "# Model registry\n\nThe registry stores every model run with its artifact \
         checksum; aliases point at successful runs.",
    ),
    (
        "docs/scenarios.md",
        "# Scenarios\n\nA scenario changes prices or promotions and compares the \
         forecast with the baseline.",
    ),
];
const SEEDER: &str = "# Seeder\n\nThe seeder generates synthetic sales for stores and \
    products, with promotions and holidays.";
const LEXICAL: &str = "lexical:hashed-ngrams";
const OPENAI: &str = "openai:text-embedding-3-small";

async fn app(backend: Backend, server: &EmbeddingServer) -> TestApp {
    let base = format!("{}/v1", server.base_url());
    let app = TestApp::spawn_with(
        backend,
        &[
            ("OPENAI_API_KEY", OPENAI_KEY),
            ("OPENAI_BASE_URL", base.as_str()),
            ("RAG_EMBEDDING_RETRY_BASE_MS", "5"),
        ],
    )
    .await;
    if backend == Backend::PgVector {
        let sources = app.get("/rag/sources").await;
        assert_eq!(sources.assert_status(200)["vector_search"], "pgvector");
    }
    app
}

async fn index(app: &TestApp, path: &str, content: &str) -> Value {
    app.post(
        "/rag/index",
        &json!({"source_type": "markdown", "source_path": path, "content": content}),
    )
    .await
    .assert_status(201)
    .clone()
}

async fn status(app: &TestApp) -> Value {
    app.get("/rag/reindex").await.assert_status(200).clone()
}

/// `(source_path of the best result, its chunk_id)` of a vector search.
async fn best(app: &TestApp, query: &str) -> (String, String) {
    let found = app
        .post(
            "/rag/retrieve",
            &json!({"query": query, "similarity_threshold": 0}),
        )
        .await;
    let first = &found.assert_status(200)["results"][0];
    (
        first["source_path"].as_str().unwrap().to_owned(),
        first["chunk_id"].as_str().unwrap().to_owned(),
    )
}

async fn chunks(app: &TestApp, embedder: &str, dimension: u32) -> i64 {
    app.count(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM document_chunk \
         WHERE embedder = '{embedder}' AND dimension = {dimension}"
    ))
    .await
}

async fn the_old_generation_serves_until_the_new_one_is_complete(backend: Backend) {
    let server = EmbeddingServer::openai().await;
    let app = app(backend, &server).await;
    for (path, content) in DOCS {
        index(&app, path, content).await;
    }
    let idle = status(&app).await;
    assert_eq!(idle["state"], "idle", "{idle}");
    assert_eq!(idle["serving"]["label"], LEXICAL);
    assert_eq!(idle["target"], idle["serving"]);
    let (path, old_chunk) = best(&app, "backtesting folds").await;
    assert_eq!(path, "docs/backtesting.md");

    app.patch(
        "/config/ai",
        &json!({"rag_embedding_provider": "openai", "rag_embedding_dimension": 256, "force": true}),
    )
    .await
    .assert_status(200);
    let pending = status(&app).await;
    assert_eq!(pending["state"], "pending", "{pending}");
    assert_eq!(pending["serving"]["label"], LEXICAL);
    assert_eq!(pending["serving"]["dimension"], 1536);
    assert_eq!(pending["serving"]["chunks"], 3);
    assert_eq!(pending["target"]["label"], OPENAI);
    assert_eq!(pending["target"]["dimension"], 256);
    assert_eq!(pending["target"]["chunks"], 0);
    assert_eq!(pending["sources_total"], 3);
    assert_eq!(pending["sources_ready"], 0);
    // The old generation still answers, embedded by the old embedder.
    assert_eq!(
        best(&app, "backtesting folds").await,
        ("docs/backtesting.md".to_owned(), old_chunk.clone())
    );
    assert!(server.embedding_requests().is_empty());

    // A source indexed meanwhile is written for both embedders: found now,
    // and needing no re-index.
    assert_eq!(
        index(&app, "PRPs/seeder.md", SEEDER).await["status"],
        "indexed"
    );
    assert_eq!(server.embedding_requests().len(), 1);
    assert_eq!(
        best(&app, "synthetic sales for stores").await.0,
        "PRPs/seeder.md"
    );
    assert_eq!(chunks(&app, OPENAI, 256).await, 1);
    assert_eq!(
        index(&app, "PRPs/seeder.md", SEEDER).await["status"],
        "unchanged"
    );
    assert_eq!(status(&app).await["sources_ready"], 1);
    let listed = app.get("/rag/sources").await.assert_status(200).clone();
    assert_eq!(
        listed["total_chunks"], 4,
        "one generation counted: {listed}"
    );

    // In the background; the first provider answer is slow, and retrieval
    // keeps answering from the old generation while it waits.
    server.push(Reply::Slow(Duration::from_millis(1500)));
    let started = app.post("/rag/reindex", &json!({})).await;
    assert_eq!(started.assert_status(202)["state"], "running");
    app.post("/rag/reindex", &json!({}))
        .await
        .assert_problem_mentions(409, "CONFLICT", "already running");
    assert_eq!(best(&app, "backtesting folds").await.1, old_chunk);
    let mut done = status(&app).await;
    for _ in 0..100 {
        if done["state"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        done = status(&app).await;
    }
    assert_eq!(done["state"], "idle", "{done}");
    assert_eq!(done["serving"]["label"], OPENAI);
    assert_eq!(done["serving"]["chunks"], 4);
    assert_eq!(done["sources_ready"], 4);
    assert_eq!(done["chunks_deleted"], 4);
    assert!(done["error"].is_null());
    assert_eq!(chunks(&app, LEXICAL, 1536).await, 0);
    assert_eq!(app.rows("document_chunk").await, 4);
    assert_eq!(
        app.count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM app_config WHERE key = 'rag_serving_embedder'"
        )
        .await,
        0
    );
    // Now the new embedder answers, from its own chunks.
    let requests = server.embedding_requests().len();
    let (path, new_chunk) = best(&app, "backtesting folds").await;
    assert_eq!(path, "docs/backtesting.md");
    assert_ne!(new_chunk, old_chunk);
    assert_eq!(server.embedding_requests().len(), requests + 1);
    app.post("/rag/reindex", &json!({"wait": true}))
        .await
        .assert_problem_mentions(409, "CONFLICT", "Nothing to re-index");
    if backend == Backend::PgVector {
        // Every chunk's vector copy was written with it, and each
        // generation got its own HNSW index.
        let missing = "SELECT COUNT(*) FROM document_chunk WHERE embedding_vec IS NULL";
        assert_eq!(app.count(missing).await, 0);
        let indexes =
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE 'ix_document_chunk_hnsw_%'";
        assert_eq!(app.count(indexes).await, 2);
    }
}

async fn a_failed_reindex_keeps_the_old_generation_serving(backend: Backend) {
    let server = EmbeddingServer::openai().await;
    let app = app(backend, &server).await;
    for (path, content) in DOCS {
        index(&app, path, content).await;
    }
    let (_, old_chunk) = best(&app, "model registry aliases").await;
    app.patch(
        "/config/ai",
        &json!({"rag_embedding_provider": "openai", "rag_embedding_dimension": 256, "force": true}),
    )
    .await
    .assert_status(200);
    // The provider fails on the second source: the first keeps its new
    // chunks, nothing switches.
    server
        .push(Reply::Slow(Duration::from_millis(1)))
        .push(Reply::error(500, "The server had an error"));
    app.post("/rag/reindex", &json!({"wait": true}))
        .await
        .assert_problem_mentions(502, "EMBEDDING_ERROR", "Embedding generation failed");
    let failed = status(&app).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(failed["error"]
        .as_str()
        .unwrap()
        .contains("Embedding generation failed"));
    assert_eq!(failed["serving"]["label"], LEXICAL);
    assert_eq!(failed["sources_ready"], 1);
    assert_eq!(chunks(&app, LEXICAL, 1536).await, 3);
    assert_eq!(chunks(&app, OPENAI, 256).await, 1);
    assert_eq!(
        best(&app, "model registry aliases").await,
        ("docs/registry.md".to_owned(), old_chunk.clone())
    );

    // A provider that cannot be reached at all: still the old generation.
    let refused = refused_base_url().await;
    app.patch(
        "/config/ai",
        &json!({"rag_embedding_provider": "ollama", "ollama_base_url": refused,
                "rag_embedding_dimension": 768, "force": true}),
    )
    .await
    .assert_status(200);
    // The abandoned target's chunks are dropped; the pin stays.
    assert_eq!(chunks(&app, OPENAI, 256).await, 0);
    app.post("/rag/reindex", &json!({"wait": true}))
        .await
        .assert_problem_mentions(502, "EMBEDDING_ERROR", &refused);
    let down = status(&app).await;
    assert_eq!(down["state"], "failed");
    assert_eq!(down["target"]["label"], "ollama:nomic-embed-text");
    assert_eq!(down["sources_ready"], 0);
    assert_eq!(best(&app, "model registry aliases").await.1, old_chunk);

    // Back to the serving embedder: nothing to re-index any more.
    app.patch(
        "/config/ai",
        &json!({"rag_embedding_provider": "lexical", "rag_embedding_dimension": 1536, "force": true}),
    )
    .await
    .assert_status(200);
    let back = status(&app).await;
    assert_eq!(back["state"], "idle", "{back}");
    assert_eq!(back["serving"], back["target"]);
    assert_eq!(app.rows("document_chunk").await, 3);
    assert_eq!(best(&app, "model registry aliases").await.1, old_chunk);
    app.post("/rag/reindex", &json!({}))
        .await
        .assert_problem(409, "CONFLICT");
}

async fn reindex_requests_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (body, field) in [
        (json!({"wait": "yes"}), "wait"),
        (json!({"wait": 1}), "wait"),
        (json!({"generation": 2}), "generation"),
    ] {
        app.post("/rag/reindex", &body).await.assert_invalid(field);
    }
    // An empty index has nothing to re-index, before and after a change.
    app.post("/rag/reindex", &json!({}))
        .await
        .assert_problem_mentions(409, "CONFLICT", "Nothing to re-index");
    app.patch("/config/ai", &json!({"rag_embedding_dimension": 384}))
        .await
        .assert_status(200);
    let empty = status(&app).await;
    assert_eq!(empty["state"], "idle");
    assert_eq!(empty["serving"]["dimension"], 384);
    assert_eq!(empty["sources_total"], 0);
    app.post("/rag/reindex", &json!({"wait": false}))
        .await
        .assert_problem(409, "CONFLICT");
    // The routes are in the document with their schemas.
    let document = app.get("/openapi.json").await.assert_status(200).clone();
    let post = &document["paths"]["/rag/reindex"]["post"];
    for code in ["200", "202", "409", "422", "502"] {
        assert!(post["responses"].get(code).is_some(), "{code} missing");
    }
    assert!(document["paths"]["/rag/reindex"]["get"].is_object());
    assert!(document["components"]["schemas"]["ReindexStatus"].is_object());
}
