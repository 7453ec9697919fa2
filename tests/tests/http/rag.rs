//! /rag over HTTP on SQLite and PostgreSQL: idempotent indexing, the three
//! retrieval modes with filters and thresholds, sources and deletion, file
//! reads confined to the project root, project-docs indexing, bad input,
//! and embedding providers that fail (local servers speaking OpenAI's and
//! Ollama's wire formats): 502 with the previous chunks left in place.

use std::path::Path;

use forecastlab_embed_testing::{refused_base_url, EmbeddingServer, Reply, OPENAI_KEY};
use forecastlab_tests::{both_backends, pgvector_backend, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    indexing_is_idempotent_by_content_hash,
    retrieval_ranks_filters_and_thresholds_in_every_mode,
    deleting_a_source_removes_it_from_search,
    file_reads_stay_inside_the_project_root,
    project_docs_are_indexed_with_categories_and_failures_reported,
    bad_input_is_rejected,
    embedding_failures_are_502_and_keep_the_previous_chunks,
    the_ollama_embedder_is_used_end_to_end,
);

// The key cases again on PostgreSQL with pgvector, where vector retrieval
// runs in SQL (see rag_pgvector.rs for the comparison of the two paths).
pgvector_backend!(
    indexing_is_idempotent_by_content_hash,
    retrieval_ranks_filters_and_thresholds_in_every_mode,
    deleting_a_source_removes_it_from_search,
    embedding_failures_are_502_and_keep_the_previous_chunks,
);

const BACKTESTING: &str = "# Backtesting\n\nBacktesting splits a sales series into expanding \
    folds. Each fold trains the model on the past and scores the forecast with WAPE and MAE \
    against naive baselines.";
const REGISTRY: &str = "# Model registry\n\nThe registry stores every model run with its \
    artifact checksum. Aliases such as production point at a successful run; archived runs \
    are kept for audit.";
const SEEDER: &str = "# Seeder\n\nThe seeder generates synthetic sales for stores and \
    products, with promotions, holidays and stockouts.";

fn openapi() -> String {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "ForecastLab", "version": "1.0"},
        "paths": {
            "/registry/aliases": {"post": {
                "summary": "Create an alias", "operationId": "create_alias",
                "description": "Point an alias name at a successful model run.",
                "tags": ["registry"],
                "responses": {"201": {"description": "Alias created"}}}}
        }
    })
    .to_string()
}

async fn index(app: &TestApp, path: &str, content: &str, category: Option<&str>) -> Value {
    let mut body = json!({"source_type": "markdown", "source_path": path, "content": content});
    if let Some(category) = category {
        body["metadata"] = json!({"category": category});
    }
    app.post("/rag/index", &body)
        .await
        .assert_status(201)
        .clone()
}

async fn corpus(app: &TestApp) {
    let expected = if app.backend == Backend::PgVector {
        "pgvector"
    } else {
        "exact"
    };
    let sources = app.get("/rag/sources").await;
    assert_eq!(sources.assert_status(200)["vector_search"], expected);
    index(app, "docs/backtesting.md", BACKTESTING, Some("docs")).await;
    index(app, "docs/registry.md", REGISTRY, Some("docs")).await;
    index(app, "PRPs/seeder.md", SEEDER, Some("prp")).await;
    let spec = app
        .post(
            "/rag/index",
            &json!({"source_type": "openapi", "source_path": "openapi.json", "content": openapi()}),
        )
        .await;
    assert_eq!(
        spec.assert_status(201)["chunks_created"],
        2,
        "overview + 1 operation"
    );
}

async fn retrieve(app: &TestApp, body: Value) -> Value {
    app.post("/rag/retrieve", &body)
        .await
        .assert_status(200)
        .clone()
}

fn paths(retrieval: &Value) -> Vec<String> {
    retrieval["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source_path"].as_str().unwrap().to_owned())
        .collect()
}

async fn indexing_is_idempotent_by_content_hash(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = index(&app, "docs/backtesting.md", BACKTESTING, None).await;
    assert_eq!(first["status"], "indexed");
    assert_eq!(first["chunks_created"], 1);
    assert!(first["tokens_processed"].as_u64().unwrap() > 20);
    let source_id = first["source_id"].as_str().unwrap().to_owned();
    assert_eq!(source_id.len(), 32);

    let again = index(&app, "docs/backtesting.md", BACKTESTING, None).await;
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["tokens_processed"], 0);
    assert_eq!(again["chunks_created"], 1);
    assert_eq!(again["source_id"], source_id.as_str());

    let changed = format!("{BACKTESTING}\n\n## Gaps\n\nA gap between train and test.");
    let updated = index(&app, "docs/backtesting.md", &changed, None).await;
    assert_eq!(updated["status"], "updated");
    assert_eq!(updated["source_id"], source_id.as_str());
    // Zero chunks is allowed.
    let empty = index(&app, "docs/empty.md", "   ", None).await;
    assert_eq!(empty["chunks_created"], 0);

    let sources = app.get("/rag/sources").await.assert_status(200).clone();
    assert_eq!(sources["total_sources"], 2);
    let backtesting = &sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == source_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(backtesting["source_type"], "markdown");
    assert_eq!(backtesting["content_hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        sources["total_chunks"].as_u64().unwrap(),
        backtesting["chunk_count"].as_u64().unwrap()
    );
    // Every stored vector names its embedder and dimension.
    let labelled = app
        .count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM document_chunk WHERE \
             embedder = 'lexical:hashed-ngrams' AND dimension = 1536 AND embedding IS NOT NULL",
        )
        .await;
    assert_eq!(labelled, app.rows("document_chunk").await);
    assert!(labelled >= 1);
}

async fn retrieval_ranks_filters_and_thresholds_in_every_mode(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    corpus(&app).await;
    for mode in ["vector", "lexical", "hybrid"] {
        let found = retrieve(
            &app,
            json!({"query": "how are backtesting folds scored?", "mode": mode, "similarity_threshold": 0.0}),
        )
        .await;
        assert_eq!(found["mode"], mode);
        assert_eq!(paths(&found)[0], "docs/backtesting.md", "{mode}: {found}");
        assert_eq!(found["total_chunks_searched"], 5);
        let scores: Vec<f64> = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["relevance_score"].as_f64().unwrap())
            .collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        let first = &found["results"][0];
        assert_eq!(first["metadata"]["heading"], "Backtesting");
        assert_eq!(first["chunk_id"].as_str().unwrap().len(), 32);
    }
    let defaults = retrieve(&app, json!({"query": "registry aliases for a model run"})).await;
    assert_eq!(paths(&defaults)[0], "docs/registry.md");
    assert!(defaults["results"].as_array().unwrap().len() <= 5);

    let only_openapi = retrieve(
        &app,
        json!({"query": "create an alias", "filters": {"source_type": "openapi"}, "similarity_threshold": 0}),
    )
    .await;
    assert!(!paths(&only_openapi).is_empty());
    assert!(paths(&only_openapi).iter().all(|p| p == "openapi.json"));
    let endpoint = &only_openapi["results"][0];
    assert_eq!(endpoint["metadata"]["operation_id"], "create_alias");

    let listed = retrieve(
        &app,
        json!({"query": "sales", "top_k": 50, "similarity_threshold": 0,
               "filters": {"source_type": ["openapi", "markdown"], "ignored": true}}),
    )
    .await;
    assert_eq!(listed["results"].as_array().unwrap().len(), 5);
    let prp = retrieve(
        &app,
        json!({"query": "sales", "similarity_threshold": 0, "filters": {"category": "prp"}}),
    )
    .await;
    assert_eq!(paths(&prp), ["PRPs/seeder.md"]);

    let one = retrieve(
        &app,
        json!({"query": "model", "top_k": 1, "similarity_threshold": 0}),
    )
    .await;
    assert_eq!(one["results"].as_array().unwrap().len(), 1);
    let strict = retrieve(
        &app,
        json!({"query": "model registry", "similarity_threshold": 1.0}),
    )
    .await;
    assert!(strict["results"].as_array().unwrap().is_empty(), "{strict}");
}

async fn deleting_a_source_removes_it_from_search(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    corpus(&app).await;
    let sources = app.get("/rag/sources").await.assert_status(200).clone();
    let registry = sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_path"] == "docs/registry.md")
        .unwrap()
        .clone();
    let id = registry["source_id"].as_str().unwrap();
    let query = json!({"query": "registry aliases", "similarity_threshold": 0});
    assert!(paths(&retrieve(&app, query.clone()).await).contains(&"docs/registry.md".to_owned()));

    let deleted = app.delete(&format!("/rag/sources/{id}")).await;
    let body = deleted.assert_status(200);
    assert_eq!(body["status"], "deleted");
    assert_eq!(body["chunks_deleted"], 1);
    let after = retrieve(&app, query).await;
    assert!(!paths(&after).contains(&"docs/registry.md".to_owned()));
    assert_eq!(after["total_chunks_searched"], 4);

    app.delete(&format!("/rag/sources/{id}"))
        .await
        .assert_problem_mentions(404, "NOT_FOUND", "Source not found");
    assert_eq!(app.get("/rag/sources").await.body["total_sources"], 3);
}

fn write(root: &Path, file: &str, bytes: &[u8]) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

async fn app_in(backend: Backend, root: &Path, extra: &[(&str, &str)]) -> TestApp {
    let root = root.display().to_string();
    let mut settings = vec![("RAG_PROJECT_ROOT", root.as_str())];
    settings.extend_from_slice(extra);
    TestApp::spawn_with(backend, &settings).await
}

async fn file_reads_stay_inside_the_project_root(backend: Backend) {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("project");
    write(&root, "docs/guide.md", BACKTESTING.as_bytes());
    write(&root, "docs/latin1.md", &[0x63, 0x61, 0x66, 0xe9]);
    write(outer.path(), "secret.md", b"# Secret\nnot for indexing");
    let app = app_in(backend, &root, &[]).await;

    let read = app
        .post(
            "/rag/index",
            &json!({"source_type": "markdown", "source_path": "docs/guide.md"}),
        )
        .await;
    assert_eq!(read.assert_status(201)["status"], "indexed");
    let absolute = outer.path().join("secret.md").display().to_string();
    for outside in ["../secret.md", "docs/../../secret.md", absolute.as_str()] {
        app.post(
            "/rag/index",
            &json!({"source_type": "markdown", "source_path": outside}),
        )
        .await
        .assert_problem_mentions(404, "NOT_FOUND", "access denied");
    }
    app.post(
        "/rag/index",
        &json!({"source_type": "markdown", "source_path": "docs/none.md"}),
    )
    .await
    .assert_problem_mentions(404, "NOT_FOUND", "Source file not found: docs/none.md");
    app.post(
        "/rag/index",
        &json!({"source_type": "markdown", "source_path": "docs/latin1.md"}),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "not valid UTF-8");
    assert_eq!(app.rows("document_source").await, 1);
}

async fn project_docs_are_indexed_with_categories_and_failures_reported(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "docs/backtesting.md", BACKTESTING.as_bytes());
    write(root, "docs/guide/registry.md", REGISTRY.as_bytes());
    write(root, "docs/broken.md", &[0xff, 0xfe, 0xfd]);
    write(root, "docs/notes.txt", b"not markdown");
    write(root, "PRPs/seeder.md", SEEDER.as_bytes());
    write(
        root,
        "README.md",
        b"# ForecastLab\n\nDemand forecasting for retail.",
    );
    let app = app_in(backend, root, &[]).await;

    let run = app.post("/rag/index/project-docs", &json!({})).await;
    let body = run.assert_status(200).clone();
    let results = body["results"].as_array().unwrap();
    let listed: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["source_path"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("PRPs/seeder.md", "indexed"),
            ("README.md", "indexed"),
            ("docs/backtesting.md", "indexed"),
            ("docs/broken.md", "failed"),
            ("docs/guide/registry.md", "indexed"),
        ]
    );
    assert!(results[3]["error"].as_str().unwrap().contains("UTF-8"));
    assert!(results[0]["error"].is_null());
    assert_eq!(body["total_files"], 5);
    assert_eq!(body["indexed"], 4);
    assert_eq!(body["failed"], 1);
    assert_eq!(body["total_chunks"], 4);

    let prp = retrieve(
        &app,
        json!({"query": "stores", "similarity_threshold": 0, "filters": {"category": "prp"}}),
    )
    .await;
    assert_eq!(paths(&prp), ["PRPs/seeder.md"]);
    let root_only = retrieve(
        &app,
        json!({"query": "forecasting", "similarity_threshold": 0, "filters": {"category": "root"}}),
    )
    .await;
    assert_eq!(paths(&root_only), ["README.md"]);

    let again = app
        .post(
            "/rag/index/project-docs",
            &json!({"include_prps": false, "include_root": false,
                                                 "path_prefix": "docs/guide"}),
        )
        .await;
    let again = again.assert_status(200);
    assert_eq!(again["total_files"], 1);
    assert_eq!(again["unchanged"], 1);
    assert_eq!(again["results"][0]["source_path"], "docs/guide/registry.md");

    for outside in ["../..", "/etc", "docs/../../x"] {
        app.post("/rag/index/project-docs", &json!({"path_prefix": outside}))
            .await
            .assert_invalid("path_prefix");
    }
}

async fn bad_input_is_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "q".repeat(2001);
    for (body, field) in [
        (json!({"query": ""}), "query"),
        (json!({"query": long}), "query"),
        (json!({"query": "x", "top_k": 0}), "top_k"),
        (json!({"query": "x", "top_k": 51}), "top_k"),
        (
            json!({"query": "x", "similarity_threshold": 1.5}),
            "similarity_threshold",
        ),
        (json!({"query": "x", "mode": "semantic"}), "mode"),
        (json!({"query": "x", "extra": 1}), "extra"),
    ] {
        app.post("/rag/retrieve", &body).await.assert_invalid(field);
    }
    for (body, field) in [
        (
            json!({"source_type": "pdf", "source_path": "a", "content": "x"}),
            "source_type",
        ),
        (
            json!({"source_type": "markdown", "source_path": "", "content": "x"}),
            "source_path",
        ),
        (
            json!({"source_type": "markdown", "source_path": "p".repeat(501), "content": "x"}),
            "source_path",
        ),
        (
            json!({"source_type": "markdown", "source_path": "a", "content": "x", "metadata": [1]}),
            "metadata",
        ),
    ] {
        app.post("/rag/index", &body).await.assert_invalid(field);
    }
    app.post("/rag/index/project-docs", &json!({"include_docs": "yes"}))
        .await
        .assert_invalid("include_docs");
    app.delete("/rag/sources/0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(404, "NOT_FOUND");
    // An OpenAPI document that is neither JSON nor YAML is chunked as markdown.
    let fallback = app
        .post(
            "/rag/index",
            &json!({"source_type": "openapi", "source_path": "broken.yaml",
                    "content": "# Notes\n: : [unclosed"}),
        )
        .await;
    assert_eq!(fallback.assert_status(201)["chunks_created"], 1);
    assert_eq!(app.rows("document_source").await, 1);
}

async fn openai_app(backend: Backend, server: &EmbeddingServer) -> TestApp {
    let base = format!("{}/v1", server.base_url());
    TestApp::spawn_with(
        backend,
        &[
            ("RAG_EMBEDDING_PROVIDER", "openai"),
            ("OPENAI_API_KEY", OPENAI_KEY),
            ("OPENAI_BASE_URL", base.as_str()),
            ("RAG_EMBEDDING_DIMENSION", "256"),
            ("RAG_EMBEDDING_RETRY_BASE_MS", "5"),
        ],
    )
    .await
}

async fn embedding_failures_are_502_and_keep_the_previous_chunks(backend: Backend) {
    let server = EmbeddingServer::openai().await;
    let app = openai_app(backend, &server).await;
    let first = index(&app, "docs/registry.md", REGISTRY, None).await;
    assert_eq!(first["status"], "indexed");
    let sent = &server.embedding_requests()[0];
    assert_eq!(sent.body["model"], "text-embedding-3-small");
    assert_eq!(sent.body["dimensions"], 256);
    let before = app.get("/rag/sources").await.body["sources"][0].clone();

    let changed = format!("{REGISTRY}\n\nRuns can be compared side by side.");
    let body =
        json!({"source_type": "markdown", "source_path": "docs/registry.md", "content": changed});
    for reply in [
        Reply::error(500, "The server had an error while processing your request"),
        Reply::Raw {
            status: 200,
            body: "{\"data\": \"garbage\"".into(),
        },
        Reply::Raw {
            status: 200,
            body: "<html>Bad gateway</html>".into(),
        },
    ] {
        server.push(reply);
        let failed = app.post("/rag/index", &body).await;
        failed.assert_problem_mentions(502, "EMBEDDING_ERROR", "Embedding generation failed");
    }
    // Nothing half-written: the previous content and chunk are still there.
    let after = app.get("/rag/sources").await.body["sources"][0].clone();
    assert_eq!(after["content_hash"], before["content_hash"]);
    assert_eq!(after["chunk_count"], 1);
    let found = retrieve(
        &app,
        json!({"query": "registry aliases", "similarity_threshold": 0}),
    )
    .await;
    assert_eq!(paths(&found), ["docs/registry.md"]);

    // 429 is retried with back-off, then succeeds.
    server
        .push(Reply::rate_limited())
        .push(Reply::rate_limited());
    let requests = server.embedding_requests().len();
    let updated = app.post("/rag/index", &body).await;
    assert_eq!(updated.assert_status(201)["status"], "updated");
    assert_eq!(server.embedding_requests().len(), requests + 3);

    // The query cannot be embedded either.
    server.push(Reply::error(503, "overloaded"));
    app.post("/rag/retrieve", &json!({"query": "registry"}))
        .await
        .assert_problem(502, "EMBEDDING_ERROR");
    // Lexical retrieval needs no embedding.
    let lexical = retrieve(
        &app,
        json!({"query": "registry", "mode": "lexical", "similarity_threshold": 0}),
    )
    .await;
    assert_eq!(lexical["query_embedding_time_ms"], 0.0);
    assert_eq!(paths(&lexical), ["docs/registry.md"]);

    // A rejected key is a 502 that does not show the key.
    let wrong = "sk-wrong-key-abcdefghijklmnop";
    app.patch("/config/ai", &json!({"openai_api_key": wrong}))
        .await
        .assert_status(200);
    let rejected = app
        .post("/rag/retrieve", &json!({"query": "registry"}))
        .await;
    rejected.assert_problem_mentions(502, "EMBEDDING_ERROR", "401");
    assert!(!rejected.text.contains(wrong));
    // No key at all.
    app.patch("/config/ai", &json!({"openai_api_key": ""}))
        .await
        .assert_status(200);
    app.post("/rag/retrieve", &json!({"query": "registry"}))
        .await
        .assert_problem_mentions(502, "EMBEDDING_ERROR", "OPENAI_API_KEY");
}

async fn the_ollama_embedder_is_used_end_to_end(backend: Backend) {
    let server = EmbeddingServer::ollama(&["nomic-embed-text:latest"]).await;
    server.shuffle(true);
    let base = server.base_url();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("RAG_EMBEDDING_PROVIDER", "ollama"),
            ("OLLAMA_BASE_URL", base.as_str()),
            ("RAG_EMBEDDING_DIMENSION", "768"),
            ("RAG_EMBEDDING_RETRY_BASE_MS", "5"),
        ],
    )
    .await;
    corpus(&app).await;
    let found = retrieve(
        &app,
        json!({"query": "backtesting folds", "similarity_threshold": 0}),
    )
    .await;
    assert_eq!(paths(&found)[0], "docs/backtesting.md");
    let stored = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM document_chunk WHERE embedder = 'ollama:nomic-embed-text' AND dimension = 768")
        .await;
    assert_eq!(stored, 5);

    app.patch(
        "/config/ai",
        &json!({"ollama_embedding_model": "mxbai-embed-large"}),
    )
    .await
    .assert_status(200);
    // The indexed model keeps serving; re-indexing into the new one says
    // what to pull.
    let still = retrieve(
        &app,
        json!({"query": "backtesting folds", "similarity_threshold": 0}),
    )
    .await;
    assert_eq!(paths(&still)[0], "docs/backtesting.md");
    app.post("/rag/reindex", &json!({"wait": true}))
        .await
        .assert_problem_mentions(502, "EMBEDDING_ERROR", "ollama pull mxbai-embed-large");

    let refused = refused_base_url().await;
    app.patch(
        "/config/ai",
        &json!({"ollama_base_url": refused, "ollama_embedding_model": "nomic-embed-text"}),
    )
    .await
    .assert_status(200);
    let unreachable = app.post("/rag/retrieve", &json!({"query": "folds"})).await;
    unreachable.assert_problem_mentions(502, "EMBEDDING_ERROR", &refused);
}
