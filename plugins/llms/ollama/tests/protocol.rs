//! The Ollama backend against a local server speaking Ollama's
//! OpenAI-compatible endpoint.

use forecastlab_core::ai::{build_llm, LlmSettings, ModelId};
use forecastlab_llm_ollama as _;
use forecastlab_llm_testing::conformance::{sample_request, Harness};
use forecastlab_llm_testing::{llm_conformance_tests, Protocol, Turn};

llm_conformance_tests!(Protocol::Ollama, "llama3.1:8b");

#[tokio::test]
async fn requests_name_the_tagged_model_and_send_no_key() {
    let harness = Harness::start(Protocol::Ollama, "llama3.1:8b").await;
    harness.server.push(Turn::text("Hello from a local model."));
    let response = harness
        .client()
        .chat(&sample_request())
        .await
        .expect("a turn");
    assert_eq!(response.message.content, "Hello from a local model.");
    let request = harness.server.last_request().expect("a request");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.body["model"], "llama3.1:8b");
    assert_eq!(request.body["max_tokens"], 512);
    assert!(request.body.get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn a_missing_model_is_model_not_found() {
    let harness = Harness::start(Protocol::Ollama, "llama9").await;
    harness.server.push(Turn::error(
        404,
        "model \"llama9\" not found, try pulling it first",
    ));
    let error = harness
        .client()
        .chat(&sample_request())
        .await
        .expect_err("a missing model");
    assert_eq!(
        error.reason(),
        forecastlab_core::ai::FailureReason::ModelNotFound
    );
    assert_eq!(
        error.detail(),
        "model \"llama9\" not found, try pulling it first"
    );
}

#[test]
fn ollama_builds_without_a_key() {
    let model = ModelId::parse("ollama:llama3.1").expect("a valid identifier");
    let client = build_llm(&model, &LlmSettings::default()).expect("no key needed");
    assert_eq!(client.model_id(), "ollama:llama3.1");
}
