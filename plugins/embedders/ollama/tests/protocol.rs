//! The Ollama embedder against a local server speaking Ollama's wire format.

use std::time::Duration;

use forecastlab_core::ai::{EmbeddingProvider, ProviderSettings};
use forecastlab_embed_ollama::OLLAMA;
use forecastlab_embed_openai::HttpEmbedder;
use forecastlab_embed_testing::{refused_base_url, EmbeddingServer, Reply};

fn settings(base_url: &str, model: &str) -> ProviderSettings {
    ProviderSettings {
        base_url: Some(base_url.into()),
        model: model.into(),
        dimension: Some(128),
        timeout: Some(Duration::from_secs(5)),
        retry_base_delay: Some(Duration::from_millis(5)),
        ..Default::default()
    }
}

#[tokio::test]
async fn embeds_in_index_order_without_a_key() {
    let server = EmbeddingServer::ollama(&["nomic-embed-text:latest"]).await;
    server.shuffle(true);
    let embedder =
        HttpEmbedder::new(OLLAMA, &settings(&server.base_url(), "nomic-embed-text")).unwrap();
    let inputs = vec![
        "promotions lift demand".to_owned(),
        "stockouts censor sales".to_owned(),
    ];
    let vectors = embedder.embed(&inputs).await.unwrap();
    assert_eq!(
        vectors[0],
        forecastlab_embed_lexical::embed_text(&inputs[0], 128)
    );
    assert_eq!(
        vectors[1],
        forecastlab_embed_lexical::embed_text(&inputs[1], 128)
    );
    let request = &server.embedding_requests()[0];
    assert_eq!(request.path, "/v1/embeddings");
    assert_eq!(request.authorization, None);
    assert_eq!(request.body["dimensions"], 128);
    assert_eq!(embedder.name(), "ollama");
}

#[tokio::test]
async fn a_missing_model_says_to_pull_it() {
    let server = EmbeddingServer::ollama(&["llama3.1:8b"]).await;
    let embedder =
        HttpEmbedder::new(OLLAMA, &settings(&server.base_url(), "nomic-embed-text")).unwrap();
    let error = embedder
        .embed(&["x".to_owned()])
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("ollama pull nomic-embed-text"), "{error}");
    assert_eq!(server.embedding_requests().len(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn transient_errors_are_retried_and_connection_failures_name_the_url() {
    let server = EmbeddingServer::ollama(&["nomic-embed-text"]).await;
    server
        .push(Reply::error(503, "loading model"))
        .push(Reply::rate_limited());
    let embedder =
        HttpEmbedder::new(OLLAMA, &settings(&server.base_url(), "nomic-embed-text")).unwrap();
    embedder.embed(&["x".to_owned()]).await.unwrap();
    assert_eq!(server.embedding_requests().len(), 3);

    let refused = refused_base_url().await;
    let embedder = HttpEmbedder::new(OLLAMA, &settings(&refused, "nomic-embed-text")).unwrap();
    let error = embedder
        .embed(&["x".to_owned()])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&refused) && error.contains("ollama serve"),
        "{error}"
    );
}

#[test]
fn it_is_registered_with_its_defaults() {
    let registration = forecastlab_core::ai::embedder("ollama").expect("registered");
    let built = (registration.build)(&ProviderSettings {
        dimension: Some(768),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(built.dimension(), 768);
    assert_eq!(built.name(), "ollama");
}
