//! The OpenAI embedder against a local server speaking OpenAI's wire format.

use std::time::Duration;

use forecastlab_core::{
    ai::{EmbeddingProvider, ProviderSettings},
    rag::tokens,
};
use forecastlab_embed_openai::{HttpEmbedder, OPENAI};
use forecastlab_embed_testing::{refused_base_url, EmbeddingServer, Reply, OPENAI_KEY};

fn settings(server_url: &str) -> ProviderSettings {
    ProviderSettings {
        base_url: Some(format!("{server_url}/v1")),
        api_key: Some(OPENAI_KEY.into()),
        model: "text-embedding-3-small".into(),
        dimension: Some(256),
        batch_size: Some(2),
        timeout: Some(Duration::from_secs(5)),
        retry_base_delay: Some(Duration::from_millis(5)),
    }
}

fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("text number {i} about demand"))
        .collect()
}

#[tokio::test]
async fn batches_keep_order_and_send_the_wire_format() {
    let server = EmbeddingServer::openai().await;
    server.shuffle(true);
    let embedder = HttpEmbedder::new(OPENAI, &settings(&server.base_url())).unwrap();
    let inputs = texts(5);
    let vectors = embedder.embed(&inputs).await.unwrap();
    assert_eq!(vectors.len(), 5);
    for (text, vector) in inputs.iter().zip(&vectors) {
        assert_eq!(vector, &forecastlab_embed_lexical::embed_text(text, 256));
    }
    let requests = server.embedding_requests();
    assert_eq!(requests.len(), 3, "5 inputs in batches of 2");
    let first = &requests[0];
    assert_eq!(first.path, "/v1/embeddings");
    assert_eq!(
        first.authorization.as_deref(),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(first.body["model"], "text-embedding-3-small");
    assert_eq!(first.body["dimensions"], 256);
    assert_eq!(first.body["input"], serde_json::json!(inputs[..2]));
    assert_eq!(embedder.name(), "openai");
    assert_eq!(embedder.dimension(), 256);
}

#[tokio::test]
async fn inputs_are_cut_to_8191_tokens() {
    let server = EmbeddingServer::openai().await;
    let embedder = HttpEmbedder::new(OPENAI, &settings(&server.base_url())).unwrap();
    let long = "forecast ".repeat(9_000);
    embedder.embed(&[long]).await.unwrap();
    let sent = server.embedding_requests()[0].body["input"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(tokens::count(&sent), tokens::MAX_TOKENS);
}

#[tokio::test]
async fn rate_limits_are_retried_with_backoff() {
    let server = EmbeddingServer::openai().await;
    server
        .push(Reply::rate_limited())
        .push(Reply::rate_limited());
    let embedder = HttpEmbedder::new(OPENAI, &settings(&server.base_url())).unwrap();
    let vectors = embedder.embed(&texts(1)).await.unwrap();
    assert_eq!(vectors.len(), 1);
    assert_eq!(server.embedding_requests().len(), 3);
}

#[tokio::test]
async fn rate_limits_give_up_after_three_retries() {
    let server = EmbeddingServer::openai().await;
    for _ in 0..4 {
        server.push(Reply::rate_limited());
    }
    let embedder = HttpEmbedder::new(OPENAI, &settings(&server.base_url())).unwrap();
    let error = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(error.contains("429"), "{error}");
    assert_eq!(server.embedding_requests().len(), 4);
}

#[tokio::test]
async fn other_errors_fail_at_once_without_leaking_the_key() {
    let server = EmbeddingServer::openai().await;
    server.push(Reply::error(500, "The server had an error"));
    let embedder = HttpEmbedder::new(OPENAI, &settings(&server.base_url())).unwrap();
    let error = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(
        error.contains("500") && error.contains("server had an error"),
        "{error}"
    );
    assert_eq!(server.embedding_requests().len(), 1);

    let wrong_key = ProviderSettings {
        api_key: Some("sk-wrong-key-9876543210".into()),
        ..settings(&server.base_url())
    };
    let embedder = HttpEmbedder::new(OPENAI, &wrong_key).unwrap();
    let error = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains("sk-wrong-key-9876543210"), "{error}");
}

#[tokio::test]
async fn garbage_and_wrong_shapes_are_errors() {
    let server = EmbeddingServer::openai().await;
    server.push(Reply::Raw {
        status: 200,
        body: "<html>not json".into(),
    });
    server.push(Reply::Raw {
        status: 200,
        body: r#"{"data": [{"index": 0, "embedding": [0.1, 0.2]}]}"#.into(),
    });
    server.push(Reply::Raw {
        status: 200,
        body: r#"{"data": []}"#.into(),
    });
    let embedder = HttpEmbedder::new(OPENAI, &settings(&server.base_url())).unwrap();
    let undecodable = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(undecodable.contains("undecodable"), "{undecodable}");
    let short = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(short.contains("2 dimensions"), "{short}");
    let missing = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(missing.contains("no vector"), "{missing}");
}

#[tokio::test]
async fn no_key_no_request_and_unreachable_hosts() {
    let server = EmbeddingServer::openai().await;
    let no_key = ProviderSettings {
        api_key: None,
        ..settings(&server.base_url())
    };
    let error = HttpEmbedder::new(OPENAI, &no_key).unwrap_err().to_string();
    assert!(error.contains("OPENAI_API_KEY"), "{error}");
    assert!(server.requests().is_empty());

    let refused = settings(&refused_base_url().await);
    let embedder = HttpEmbedder::new(OPENAI, &refused).unwrap();
    let error = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(error.contains("OpenAI request failed"), "{error}");
}

#[tokio::test]
async fn slow_answers_time_out() {
    let server = EmbeddingServer::openai().await;
    server.push(Reply::Slow(Duration::from_secs(3)));
    let fast = ProviderSettings {
        timeout: Some(Duration::from_millis(200)),
        ..settings(&server.base_url())
    };
    let embedder = HttpEmbedder::new(OPENAI, &fast).unwrap();
    let error = embedder.embed(&texts(1)).await.unwrap_err().to_string();
    assert!(error.contains("within"), "{error}");
}

#[test]
fn it_is_registered() {
    let registration = forecastlab_core::ai::embedder("openai").expect("registered");
    let built = (registration.build)(&ProviderSettings {
        api_key: Some("sk-x".into()),
        dimension: Some(1536),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(built.dimension(), 1536);
}
