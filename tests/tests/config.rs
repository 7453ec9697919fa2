//! /config over HTTP on SQLite and PostgreSQL: masked keys, strict PATCH
//! with model-identifier validation, the embedding-dimension 409, overrides
//! persisted and applied live (to the embedder and to the agents) and
//! after a restart, provider health and Ollama's models against a local
//! server speaking Ollama's protocol — and secrets never returned or
//! logged (every log line of this test binary is captured and searched).

use forecastlab_embed_testing::{refused_base_url, EmbeddingServer};
use forecastlab_tests::{agents::logs, both_backends, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    defaults_and_masked_keys_are_reported,
    patches_persist_apply_live_and_survive_a_restart,
    patches_are_strict,
    a_dimension_change_with_indexed_chunks_needs_force,
    provider_health_and_ollama_models,
    secrets_are_never_returned_or_logged,
);

async fn spawn(backend: Backend, settings: &[(&str, &str)]) -> TestApp {
    logs();
    TestApp::spawn_with(backend, settings).await
}

async fn defaults_and_masked_keys_are_reported(backend: Backend) {
    let app = spawn(
        backend,
        &[
            ("OPENAI_API_KEY", "sk-proj-abcdefghijklmnop"),
            ("ANTHROPIC_API_KEY", "short-key1"),
        ],
    )
    .await;
    let config = app.get("/config/ai").await.assert_status(200).clone();
    assert_eq!(config["agent_default_model"], "anthropic:claude-sonnet-4-5");
    assert_eq!(config["agent_fallback_model"], "openai:gpt-4o");
    assert_eq!(config["agent_temperature"], 0.1);
    assert_eq!(config["agent_max_tokens"], 4096);
    assert!(config["agent_thinking_budget"].is_null());
    assert_eq!(config["rag_embedding_provider"], "lexical");
    assert_eq!(config["rag_embedding_dimension"], 1536);
    assert_eq!(config["ollama_embedding_model"], "nomic-embed-text");
    assert_eq!(
        config["api_keys"],
        json!([
            {"provider": "openai", "is_set": true, "masked": "sk-proj…mnop"},
            {"provider": "anthropic", "is_set": true, "masked": "…key1"},
            {"provider": "google", "is_set": false, "masked": null},
        ])
    );
    assert_eq!(config["overridden_keys"], json!([]));
}

async fn patches_persist_apply_live_and_survive_a_restart(backend: Backend) {
    let app = spawn(backend, &[("AGENT_FALLBACK_MODEL", "none")]).await;
    // The default model's provider has no key: agents cannot start.
    app.post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await
        .assert_status(400);

    let patched = app
        .patch(
            "/config/ai",
            &json!({"agent_default_model": "ollama:llama3.1:8b", "agent_temperature": 0.5,
                    "rag_embedding_dimension": 256, "google_api_key": "AIzaSyA-0123456789abcdef",
                    "agent_max_tokens": null}),
        )
        .await;
    let body = patched.assert_status(200).clone();
    assert_eq!(body["agent_default_model"], "ollama:llama3.1:8b");
    assert_eq!(body["agent_temperature"], 0.5);
    assert_eq!(body["agent_max_tokens"], 4096, "null fields are ignored");
    assert_eq!(body["api_keys"][2]["masked"], "AIzaSyA…cdef");
    assert_eq!(
        body["overridden_keys"],
        json!([
            "agent_default_model",
            "agent_temperature",
            "google_api_key",
            "rag_embedding_dimension"
        ])
    );
    assert_eq!(app.get("/config/ai").await.body, body);
    assert_eq!(app.rows("app_config").await, 4);

    // Live: agents now build with the Ollama model (no key needed)…
    app.post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await
        .assert_status(201);
    // …and the embedder makes 256-dimensional vectors.
    app.post(
        "/rag/index",
        &json!({"source_type": "markdown", "source_path": "a.md", "content": "# A\nalpha beta"}),
    )
    .await
    .assert_status(201);
    let dims = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM document_chunk WHERE dimension = 256")
        .await;
    assert_eq!(dims, 1);

    // A second patch of the same key replaces its row.
    app.patch("/config/ai", &json!({"agent_temperature": 1.25}))
        .await
        .assert_status(200);
    assert_eq!(app.rows("app_config").await, 4);

    // A restart on the same database applies the persisted overrides.
    let restarted = TestApp::spawn_at(&app.database_url, &[("AGENT_FALLBACK_MODEL", "none")]).await;
    let config = restarted.get("/config/ai").await.assert_status(200).clone();
    assert_eq!(config["agent_default_model"], "ollama:llama3.1:8b");
    assert_eq!(config["agent_temperature"], 1.25);
    assert_eq!(config["rag_embedding_dimension"], 256);
    assert_eq!(config["api_keys"][2]["is_set"], true);
}

async fn patches_are_strict(backend: Backend) {
    let app = spawn(backend, &[]).await;
    for empty in [
        json!({}),
        json!({"force": true}),
        json!({"agent_temperature": null}),
    ] {
        app.patch("/config/ai", &empty)
            .await
            .assert_problem_mentions(400, "BAD_REQUEST", "No configuration fields provided");
    }
    let nested = app
        .patch(
            "/config/ai",
            &json!({"agent_default_model": "google-gla:google-gla:gemini-3-flash"}),
        )
        .await;
    nested.assert_invalid("agent_default_model");
    assert!(
        nested.text.contains("google-gla:gemini-3-flash"),
        "{}",
        nested.text
    );
    for (body, field) in [
        (
            json!({"agent_default_model": "gpt-4o"}),
            "agent_default_model",
        ),
        (
            json!({"agent_default_model": "acme:model"}),
            "agent_default_model",
        ),
        (
            json!({"agent_fallback_model": "openai:"}),
            "agent_fallback_model",
        ),
        (json!({"agent_temperature": 2.5}), "agent_temperature"),
        (json!({"agent_temperature": "0.5"}), "agent_temperature"),
        (json!({"agent_max_tokens": 0}), "agent_max_tokens"),
        (json!({"agent_max_tokens": "100"}), "agent_max_tokens"),
        (json!({"agent_thinking_budget": 0}), "agent_thinking_budget"),
        (
            json!({"rag_embedding_provider": "cohere"}),
            "rag_embedding_provider",
        ),
        (
            json!({"rag_embedding_dimension": 0}),
            "rag_embedding_dimension",
        ),
        (json!({"ollama_base_url": "ftp://host"}), "ollama_base_url"),
        (
            json!({"ollama_embedding_model": "two words"}),
            "ollama_embedding_model",
        ),
        (json!({"force": 1, "agent_temperature": 0.2}), "force"),
        (json!({"database_url": "x"}), "database_url"),
    ] {
        app.patch("/config/ai", &body).await.assert_invalid(field);
    }
    assert_eq!(app.rows("app_config").await, 0);
    let tagged = app
        .patch(
            "/config/ai",
            &json!({"agent_fallback_model": "ollama:llama3.1:8b"}),
        )
        .await;
    assert_eq!(
        tagged.assert_status(200)["agent_fallback_model"],
        "ollama:llama3.1:8b"
    );
    let none = app
        .patch("/config/ai", &json!({"agent_fallback_model": "none"}))
        .await;
    assert!(none.assert_status(200)["agent_fallback_model"].is_null());
}

async fn a_dimension_change_with_indexed_chunks_needs_force(backend: Backend) {
    let app = spawn(backend, &[]).await;
    for (path, text) in [("a.md", "# A\nalpha"), ("b.md", "# B\nbeta")] {
        app.post(
            "/rag/index",
            &json!({"source_type": "markdown", "source_path": path, "content": text}),
        )
        .await
        .assert_status(201);
    }
    let refused = app
        .patch("/config/ai", &json!({"rag_embedding_dimension": 512}))
        .await;
    refused.assert_problem_mentions(
        409,
        "CONFLICT",
        "Changing the embedding dimension with 2 indexed RAG chunk(s) breaks retrieval",
    );
    assert_eq!(
        app.get("/config/ai").await.body["rag_embedding_dimension"],
        1536
    );
    // The same dimension is no change; force applies a new one.
    app.patch("/config/ai", &json!({"rag_embedding_dimension": 1536}))
        .await
        .assert_status(200);
    let forced = app
        .patch(
            "/config/ai",
            &json!({"rag_embedding_dimension": 512, "force": true}),
        )
        .await;
    assert_eq!(forced.assert_status(200)["rag_embedding_dimension"], 512);
    // Old vectors are never compared with new ones: the old embedder keeps
    // serving its own chunks until a re-index completes.
    let found = app
        .post(
            "/rag/retrieve",
            &json!({"query": "alpha", "similarity_threshold": 0}),
        )
        .await;
    assert_eq!(
        found.assert_status(200)["results"][0]["source_path"],
        "a.md"
    );
    let status = app.get("/rag/reindex").await;
    assert_eq!(status.assert_status(200)["state"], "pending");
    assert_eq!(status.body["serving"]["dimension"], 1536);
    assert_eq!(status.body["target"]["dimension"], 512);
    let reindexed = app
        .post(
            "/rag/index",
            &json!({"source_type": "markdown", "source_path": "a.md", "content": "# A\nalpha"}),
        )
        .await;
    assert_eq!(reindexed.assert_status(201)["status"], "updated");
    let done = app.post("/rag/reindex", &json!({"wait": true})).await;
    assert_eq!(done.assert_status(200)["state"], "idle");
    assert_eq!(done.body["serving"]["dimension"], 512);
    assert_eq!(done.body["serving"]["chunks"], 2);
    let found = app
        .post(
            "/rag/retrieve",
            &json!({"query": "alpha", "similarity_threshold": 0}),
        )
        .await;
    assert_eq!(
        found.assert_status(200)["results"][0]["source_path"],
        "a.md"
    );
}

async fn provider_health_and_ollama_models(backend: Backend) {
    let server = EmbeddingServer::ollama(&["nomic-embed-text:latest", "llama3.1:8b"]).await;
    let base = server.base_url();
    let app = spawn(
        backend,
        &[
            ("OLLAMA_BASE_URL", base.as_str()),
            ("OPENAI_API_KEY", "sk-test-1234567890"),
        ],
    )
    .await;
    let health = app
        .get("/config/providers/health")
        .await
        .assert_status(200)
        .clone();
    let providers: Vec<&str> = health
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["ollama", "openai", "anthropic", "google"]);
    assert_eq!(health[0]["reachable"], true);
    assert_eq!(
        health[0]["detail"],
        format!("Reachable at {base} (2 model(s) pulled)").as_str()
    );
    assert_eq!(
        health[0]["models"],
        json!(["nomic-embed-text:latest", "llama3.1:8b"])
    );
    assert_eq!(
        health[1],
        json!({"provider": "openai", "reachable": true,
                                 "detail": "API key configured", "models": []})
    );
    assert_eq!(health[2]["detail"], "API key not set");

    let models = app
        .get("/config/ollama/models")
        .await
        .assert_status(200)
        .clone();
    assert_eq!(models[0]["name"], "nomic-embed-text:latest");
    assert_eq!(models[0]["family"], "nomic-bert");
    assert!(models[0]["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(models.as_array().unwrap().len(), 2);

    let refused = refused_base_url().await;
    app.patch("/config/ai", &json!({"ollama_base_url": refused}))
        .await
        .assert_status(200);
    let down = app
        .get("/config/providers/health")
        .await
        .assert_status(200)
        .clone();
    assert_eq!(down[0]["reachable"], false);
    assert!(down[0]["detail"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Not reachable at {refused}")));
    app.get("/config/ollama/models")
        .await
        .assert_problem_mentions(
            502,
            "OLLAMA_UNREACHABLE",
            "Ensure 'ollama serve' is running",
        );
}

async fn secrets_are_never_returned_or_logged(backend: Backend) {
    let server = EmbeddingServer::openai().await;
    let base = format!("{}/v1", server.base_url());
    let env_key = "sk-env-secret-0123456789abcdef";
    let app = spawn(
        backend,
        &[
            ("OPENAI_API_KEY", env_key),
            ("OPENAI_BASE_URL", base.as_str()),
            ("RAG_EMBEDDING_PROVIDER", "openai"),
            ("RAG_EMBEDDING_DIMENSION", "128"),
        ],
    )
    .await;
    let secrets = [
        "sk-patched-secret-9876543210zyxw",
        "sk-ant-patched-secret-55555aaaaa",
        "AIzaPatchedSecret-0000011111",
    ];
    let mut texts: Vec<String> = Vec::new();
    let patched = app
        .patch(
            "/config/ai",
            &json!({"openai_api_key": secrets[0], "anthropic_api_key": secrets[1],
                    "google_api_key": secrets[2]}),
        )
        .await;
    patched.assert_status(200);
    texts.push(patched.text.clone());
    for path in ["/config/ai", "/config/providers/health"] {
        texts.push(app.get(path).await.assert_status(200).to_string());
    }
    // The wrong key reaches the provider, which rejects it.
    let rejected = app
        .post("/rag/retrieve", &json!({"query": "anything"}))
        .await;
    rejected.assert_problem(502, "EMBEDDING_ERROR");
    texts.push(rejected.text.clone());
    assert_eq!(
        server.embedding_requests()[0].authorization.as_deref(),
        Some(format!("Bearer {}", secrets[0]).as_str()),
        "the patched key is the one in use"
    );
    let stored: Vec<Value> = forecastlab_server::with_db!(&app.db, pool => {
        sqlx::query_scalar::<_, sqlx::types::Json<Value>>("SELECT value FROM app_config ORDER BY key")
            .fetch_all(pool)
            .await
    })
    .unwrap()
    .into_iter()
    .map(|json| json.0)
    .collect();
    assert_eq!(stored.len(), 3, "persisted as overrides: {stored:?}");
    let logged = logs().text();
    assert!(
        logged.contains("AI configuration changed"),
        "the change is logged (keys only)"
    );
    for secret in secrets.iter().chain([&env_key]) {
        assert!(!logged.contains(secret), "{secret} is in the logs");
        for text in &texts {
            assert!(!text.contains(secret), "{secret} returned: {text}");
        }
    }
}
