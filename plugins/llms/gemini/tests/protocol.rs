//! The Gemini backend against a local Gemini API server.

use forecastlab_core::ai::{
    build_llm, collect_stream, ChatMessage, ChatRequest, LlmErrorKind, LlmSettings, ModelId,
    ToolCall,
};
use forecastlab_llm_gemini as _;
use forecastlab_llm_testing::conformance::{sample_request, Harness};
use forecastlab_llm_testing::{llm_conformance_tests, Protocol, ProviderServer, Turn};
use serde_json::json;

llm_conformance_tests!(Protocol::Gemini, "gemini-2.5-flash");

/// A conversation that already went through one tool call.
fn follow_up_request() -> ChatRequest {
    let mut request = sample_request();
    request.thinking_budget = Some(1024);
    request.messages.extend([
        ChatMessage::assistant(
            "",
            vec![ToolCall {
                id: "gemini_call_9".into(),
                name: "get_run".into(),
                arguments: json!({"run_id": "abc"}),
                signature: Some("c2lnbmF0dXJl".into()),
            }],
        ),
        ChatMessage::tool_result("gemini_call_9", r#"{"wape": 12.5}"#),
        ChatMessage::tool_result("gemini_call_9", "plain text result"),
    ]);
    request
}

#[tokio::test]
async fn requests_follow_the_generate_content_format() {
    let harness = Harness::start(Protocol::Gemini, "gemini-2.5-flash").await;
    harness.server.push(Turn::text("12.5 %."));
    harness
        .client()
        .chat(&follow_up_request())
        .await
        .expect("a turn");
    let request = harness.server.last_request().expect("a request");
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(request.query, None, "the key never goes into the URL");
    assert_eq!(
        request.header("x-goog-api-key"),
        Some("AIzaTestKey0123456789abcdefGEMINI")
    );
    let body = &request.body;
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "You are a forecasting assistant."}]})
    );
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "How did run abc do?"}]},
            {"role": "model", "parts": [{
                "functionCall": {"name": "get_run", "args": {"run_id": "abc"}},
                "thoughtSignature": "c2lnbmF0dXJl",
            }]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_run", "response": {"wape": 12.5}}},
                {"functionResponse": {"name": "get_run",
                                      "response": {"result": "plain text result"}}},
            ]},
        ])
    );
    assert_eq!(
        body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"]["required"],
        json!(["run_id"])
    );
    assert_eq!(
        body["generationConfig"],
        json!({"temperature": 0.1, "maxOutputTokens": 512,
               "thinkingConfig": {"thinkingBudget": 1024}})
    );
}

#[tokio::test]
async fn streams_use_server_sent_events() {
    let harness = Harness::start(Protocol::Gemini, "gemini-2.5-flash").await;
    harness.server.push(Turn::text("Streaming works."));
    let stream = harness
        .client()
        .chat_stream(&sample_request())
        .await
        .expect("a stream");
    collect_stream(stream).await.expect("a turn");
    let request = harness.server.last_request().expect("a request");
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(request.query.as_deref(), Some("alt=sse"));
}

#[tokio::test]
async fn calls_without_ids_get_unique_ids_and_keep_their_signature() {
    let harness = Harness::start(Protocol::Gemini, "gemini-2.5-flash").await;
    let thought = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "thinking about it", "thought": true},
        {"functionCall": {"name": "get_run", "args": {"run_id": "a"}},
         "thoughtSignature": "c2ln"},
        {"functionCall": {"name": "list_runs"}},
    ]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "thoughtsTokenCount": 2}});
    harness
        .server
        .push(Turn::raw(200, "application/json", thought.to_string()));
    let response = harness
        .client()
        .chat(&sample_request())
        .await
        .expect("a turn");
    let calls = &response.message.tool_calls;
    assert_eq!(response.message.content, "", "thought parts are not text");
    assert_eq!(calls[0].signature.as_deref(), Some("c2ln"));
    assert_eq!(calls[1].arguments, json!({}));
    assert_ne!(calls[0].id, calls[1].id);
    assert!(calls[0].id.starts_with("gemini_call_"));
    assert_eq!(response.usage.output_tokens, 5, "thinking tokens count");
}

#[tokio::test]
async fn a_blocked_prompt_is_a_rejected_response() {
    let harness = Harness::start(Protocol::Gemini, "gemini-2.5-flash").await;
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
    harness
        .server
        .push(Turn::raw(200, "application/json", blocked.to_string()));
    let error = harness
        .client()
        .chat(&sample_request())
        .await
        .expect_err("blocked");
    assert_eq!(error.kind(), LlmErrorKind::Rejected);
}

#[tokio::test]
async fn google_vertex_uses_the_same_wire_format() {
    let server = ProviderServer::gemini().await;
    server.push(Turn::text("From Vertex."));
    let settings = LlmSettings {
        base_url: Some(format!("http://{}/v1/publishers/google", server.address())),
        ..server.settings()
    };
    let model = ModelId::parse("google-vertex:gemini-2.5-pro").expect("valid");
    let client = build_llm(&model, &settings).expect("registered");
    assert_eq!(client.model_id(), "google-vertex:gemini-2.5-pro");
    let response = client.chat(&sample_request()).await.expect("a turn");
    assert_eq!(response.message.content, "From Vertex.");
    assert_eq!(
        server.last_request().expect("a request").path,
        "/v1/publishers/google/models/gemini-2.5-pro:generateContent"
    );
}
