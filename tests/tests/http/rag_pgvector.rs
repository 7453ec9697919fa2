//! The pgvector search path of /rag over HTTP, on a private PostgreSQL
//! server with the `vector` extension (skipped, saying why, when
//! `PGVECTOR_PG_BIN` is not set): on one corpus and one database, the SQL
//! search (HNSW) and the exact in-process search return the same chunks in
//! the same order with the same scores, with and without filters and
//! thresholds; vectors stored before pgvector was set up are copied into
//! the vector column without a re-index, also when another process keeps
//! writing without it.

use std::time::Instant;

use forecastlab_tests::{pgvector_backend, Backend, TestApp};
use futures::StreamExt;
use serde_json::{json, Value};

pgvector_backend!(
    both_paths_return_the_same_top_k,
    vectors_stored_before_pgvector_are_copied_without_a_reindex,
);

const WORDS: [&str; 48] = [
    "forecast",
    "backtest",
    "fold",
    "registry",
    "alias",
    "artifact",
    "seeder",
    "promotion",
    "holiday",
    "stockout",
    "store",
    "product",
    "price",
    "elasticity",
    "scenario",
    "baseline",
    "naive",
    "seasonal",
    "trend",
    "regression",
    "gradient",
    "boosting",
    "forest",
    "interval",
    "quantile",
    "horizon",
    "calendar",
    "feature",
    "lag",
    "rolling",
    "mean",
    "weighted",
    "error",
    "wape",
    "mae",
    "smape",
    "job",
    "worker",
    "queue",
    "export",
    "bundle",
    "dashboard",
    "agent",
    "embedding",
    "chunk",
    "retrieval",
    "index",
    "vector",
];

/// A deterministic pseudo-random sequence (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

fn sentence(random: &mut Lcg, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[random.next(WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Document `i`: markdown in three categories (one of them rare), or now
/// and then an OpenAPI document.
fn document(i: usize, random: &mut Lcg) -> Value {
    if i % 25 == 7 {
        let spec = json!({
            "openapi": "3.1.0",
            "paths": {format!("/things/{i}"): {"get": {
                "summary": sentence(random, 6),
                "description": sentence(random, 20),
                "responses": {"200": {"description": "ok"}}}}}
        });
        return json!({"source_type": "openapi", "source_path": format!("specs/{i}.json"),
                      "content": spec.to_string()});
    }
    let category = match i % 10 {
        0 => "rare",
        1..=5 => "docs",
        _ => "prp",
    };
    let content = format!(
        "# {} {i}\n\n{}. Reference note{i}.\n\n## {}\n\n{}.",
        sentence(random, 2),
        sentence(random, 30),
        sentence(random, 2),
        sentence(random, 25)
    );
    json!({"source_type": "markdown", "source_path": format!("docs/{i}.md"),
           "content": content, "metadata": {"category": category}})
}

async fn index_corpus(app: &TestApp, documents: usize) {
    let mut random = Lcg(17);
    let bodies: Vec<Value> = (0..documents).map(|i| document(i, &mut random)).collect();
    let mut posts = futures::stream::iter(bodies.iter().map(|body| app.post("/rag/index", body)))
        .buffer_unordered(8);
    while let Some(response) = posts.next().await {
        response.assert_status(201);
    }
}

async fn vector_search(app: &TestApp) -> String {
    let sources = app.get("/rag/sources").await;
    sources.assert_status(200)["vector_search"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn retrieve(app: &TestApp, body: &Value) -> Value {
    app.post("/rag/retrieve", body)
        .await
        .assert_status(200)
        .clone()
}

/// `(chunk_id, relevance_score)` of each result.
fn hits(found: &Value) -> Vec<(String, f64)> {
    found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["chunk_id"].as_str().unwrap().to_owned(),
                r["relevance_score"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn assert_same(sql: &Value, exact: &Value, request: &Value) {
    let (sql_hits, exact_hits) = (hits(sql), hits(exact));
    let ids = |hits: &[(String, f64)]| hits.iter().map(|h| h.0.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&sql_hits), ids(&exact_hits), "for {request}");
    for (a, b) in sql_hits.iter().zip(&exact_hits) {
        assert!(
            (a.1 - b.1).abs() <= 1e-5,
            "{} vs {} for {request}",
            a.1,
            b.1
        );
    }
    assert_eq!(
        sql["total_chunks_searched"], exact["total_chunks_searched"],
        "for {request}"
    );
}

/// Unfiltered and filtered requests for `queries`.
fn requests(queries: &[String]) -> Vec<Value> {
    let mut requests = Vec::new();
    for query in queries {
        for (top_k, threshold) in [
            (5, Some(0.0)),
            (20, Some(0.0)),
            (50, Some(0.0)),
            (10, Some(0.1)),
            (5, None),
        ] {
            let mut body = json!({"query": query, "top_k": top_k});
            if let Some(threshold) = threshold {
                body["similarity_threshold"] = json!(threshold);
            }
            requests.push(body);
        }
        for filters in [
            json!({"category": "rare"}),
            json!({"source_type": "openapi"}),
            json!({"source_type": ["markdown"], "category": "docs"}),
            json!({"category": "none-such"}),
        ] {
            requests.push(
                json!({"query": query, "top_k": 10, "similarity_threshold": 0,
                                 "filters": filters}),
            );
        }
    }
    requests
}

/// Search time and found ids of one path over the unfiltered requests.
#[derive(Default)]
struct Tally {
    ms: f64,
    searches: usize,
    found: usize,
    expected: usize,
}

impl Tally {
    fn add(&mut self, found: &Value, exact: &Value) {
        self.ms += found["search_time_ms"].as_f64().unwrap();
        self.searches += 1;
        let exact_ids: Vec<String> = hits(exact).into_iter().map(|h| h.0).collect();
        self.expected += exact_ids.len();
        self.found += hits(found)
            .iter()
            .filter(|h| exact_ids.contains(&h.0))
            .count();
    }

    fn describe(&self, name: &str) -> String {
        format!(
            "{name}: {:.2} ms mean, recall {:.4}",
            self.ms / self.searches.max(1) as f64,
            self.found as f64 / self.expected.max(1) as f64
        )
    }
}

async fn both_paths_return_the_same_top_k(backend: Backend) {
    let documents: usize = std::env::var("RAG_PGVECTOR_CORPUS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    // With an ef_search of at least the number of vectors the HNSW walk
    // visits the whole graph, so the SQL path must equal the exact one.
    let sql = TestApp::spawn_with(backend, &[("RAG_HNSW_EF_SEARCH", "1000")]).await;
    let started = Instant::now();
    index_corpus(&sql, documents).await;
    let indexing = started.elapsed();
    // Two more apps on the same database: one searching in process, one
    // with the default ef_search (approximate on large corpora).
    let exact = TestApp::spawn_at(&sql.database_url, &[("RAG_VECTOR_SEARCH", "exact")]).await;
    let approximate = TestApp::spawn_at(&sql.database_url, &[]).await;
    assert_eq!(vector_search(&sql).await, "pgvector");
    assert_eq!(vector_search(&approximate).await, "pgvector");
    assert_eq!(vector_search(&exact).await, "exact");
    let chunks = sql.rows("document_chunk").await as usize;
    assert!(chunks >= documents, "{chunks} chunks");
    let hnsw = "SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE 'ix_document_chunk_hnsw_%'";
    assert_eq!(sql.count(hnsw).await, 1);

    let mut random = Lcg(99);
    let queries: Vec<String> = (0..12).map(|_| sentence(&mut random, 4)).collect();
    let (mut full, mut default, mut memory) =
        (Tally::default(), Tally::default(), Tally::default());
    for request in &requests(&queries) {
        let from_sql = retrieve(&sql, request).await;
        let from_memory = retrieve(&exact, request).await;
        if chunks <= 1000 {
            assert_same(&from_sql, &from_memory, request);
        }
        let wanted = request["top_k"].as_u64().unwrap() as usize;
        if request["similarity_threshold"] == 0 && request.get("filters").is_none() {
            assert_eq!(hits(&from_sql).len(), wanted, "a full page for {request}");
        }
        if request["filters"]["category"] == "rare" {
            // A selective filter still fills the page (documents 0, 10, …).
            assert_eq!(hits(&from_sql).len(), wanted.min(documents.div_ceil(10)));
        }
        if request.get("filters").is_none() {
            let from_default = retrieve(&approximate, request).await;
            full.add(&from_sql, &from_memory);
            default.add(&from_default, &from_memory);
            memory.add(&from_memory, &from_memory);
        }
    }
    // The server's queries walked the HNSW index (statistics reach the
    // view within about a second of a connection going idle).
    let scans = "SELECT CAST(COALESCE(SUM(idx_scan), 0) AS BIGINT) FROM pg_stat_user_indexes \
                 WHERE indexrelname LIKE 'ix_document_chunk_hnsw_%'";
    let mut walked = 0;
    for _ in 0..50 {
        walked = sql.count(scans).await;
        if walked > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(walked > 0, "no HNSW index scan recorded");

    // The first search after a write: the exact path reloads every chunk.
    let late = json!({"source_type": "markdown", "source_path": "docs/late.md",
                      "content": "# Late\n\nA note on forecast folds written last."});
    sql.post("/rag/index", &late).await.assert_status(201);
    let query = json!({"query": "forecast folds", "top_k": 5, "similarity_threshold": 0});
    let after_write_memory = retrieve(&exact, &query).await;
    let after_write_sql = retrieve(&approximate, &query).await;
    eprintln!(
        "{documents} documents, {chunks} chunks indexed in {:.1} s; {} unfiltered searches: \
         {}; {}; {}; first search after a write: exact {:.2} ms (reload), pgvector {:.2} ms",
        indexing.as_secs_f64(),
        memory.searches,
        memory.describe("exact in process"),
        full.describe("pgvector ef_search 1000"),
        default.describe("pgvector ef_search 100 (default)"),
        after_write_memory["search_time_ms"].as_f64().unwrap(),
        after_write_sql["search_time_ms"].as_f64().unwrap(),
    );
}

async fn vectors_stored_before_pgvector_are_copied_without_a_reindex(backend: Backend) {
    // First only the exact path: no extension or column is set up.
    let before = TestApp::spawn_with(backend, &[("RAG_VECTOR_SEARCH", "exact")]).await;
    assert_eq!(vector_search(&before).await, "exact");
    index_corpus(&before, 30).await;
    let column = "SELECT COUNT(*) FROM information_schema.columns \
                  WHERE table_name = 'document_chunk' AND column_name = 'embedding_vec'";
    assert_eq!(before.count(column).await, 0);

    // A process with pgvector: the column is added and filled from the
    // stored bytes, and both paths agree at once.
    let after = TestApp::spawn_at(&before.database_url, &[]).await;
    assert_eq!(vector_search(&after).await, "pgvector");
    assert_eq!(after.count(column).await, 1);
    let missing = "SELECT COUNT(*) FROM document_chunk WHERE embedding_vec IS NULL";
    assert_eq!(after.count(missing).await, 0);
    let query = json!({"query": "forecast backtest fold registry", "top_k": 10,
                       "similarity_threshold": 0});
    assert_same(
        &retrieve(&after, &query).await,
        &retrieve(&before, &query).await,
        &query,
    );

    // The first process, started before the column existed, keeps writing
    // without it: the pgvector process fills the copies before searching.
    let late = json!({"source_type": "markdown", "source_path": "docs/late.md",
                      "content": "# Late\n\nA zebra crossing note about quokka logistics."});
    before.post("/rag/index", &late).await.assert_status(201);
    assert_eq!(after.count(missing).await, 1);
    let zebra = json!({"query": "zebra quokka", "top_k": 3, "similarity_threshold": 0});
    let found = retrieve(&after, &zebra).await;
    assert_eq!(
        found["results"][0]["source_path"], "docs/late.md",
        "{found}"
    );
    assert_eq!(after.count(missing).await, 0);
    assert_same(&found, &retrieve(&before, &zebra).await, &zebra);

    // Deleting through either process keeps both searches current.
    let id = found["results"][0]["source_id"]
        .as_str()
        .unwrap()
        .to_owned();
    after
        .delete(&format!("/rag/sources/{id}"))
        .await
        .assert_status(200);
    let gone = retrieve(&after, &zebra).await;
    assert!(gone["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source_path"] != "docs/late.md"));
    assert_same(&gone, &retrieve(&before, &zebra).await, &zebra);
}
