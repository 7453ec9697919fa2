//! The OpenAI backend against a local Chat Completions server.

use forecastlab_core::ai::{ChatMessage, ChatRequest, ToolCall};
use forecastlab_llm_openai as _;
use forecastlab_llm_testing::conformance::{sample_request, Harness};
use forecastlab_llm_testing::{llm_conformance_tests, Protocol, Turn};
use serde_json::json;

llm_conformance_tests!(Protocol::OpenAi, "gpt-4o");

/// A conversation that already went through one tool call.
fn follow_up_request() -> ChatRequest {
    let mut request = sample_request();
    request.messages.extend([
        ChatMessage::assistant(
            "",
            vec![ToolCall {
                id: "call_7".into(),
                name: "get_run".into(),
                arguments: json!({"run_id": "abc"}),
                signature: None,
            }],
        ),
        ChatMessage::tool_result("call_7", r#"{"wape": 12.5}"#),
    ]);
    request
}

#[tokio::test]
async fn requests_follow_the_chat_completions_format() {
    let harness = Harness::start(Protocol::OpenAi, "gpt-4o").await;
    harness.server.push(Turn::text("12.5 %."));
    harness
        .client()
        .chat(&follow_up_request())
        .await
        .expect("a turn");
    let request = harness.server.last_request().expect("a request");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk-proj-TestKey0123456789abcdefOPENAI")
    );
    let body = &request.body;
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["max_completion_tokens"], 512);
    assert!(body.get("max_tokens").is_none());
    assert!(body.get("stream").is_none());
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are a forecasting assistant."})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_7", "type": "function",
            "function": {"name": "get_run", "arguments": "{\"run_id\":\"abc\"}"},
        }]})
    );
    assert_eq!(
        body["messages"][3],
        json!({"role": "tool", "content": "{\"wape\": 12.5}", "tool_call_id": "call_7"})
    );
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "get_run");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["required"],
        json!(["run_id"])
    );
}

#[tokio::test]
async fn streamed_requests_ask_for_usage() {
    let harness = Harness::start(Protocol::OpenAi, "gpt-4o").await;
    harness.server.push(Turn::text("Hi").with_usage(7, 2));
    let stream = harness
        .client()
        .chat_stream(&sample_request())
        .await
        .expect("a stream");
    let response = forecastlab_core::ai::collect_stream(stream)
        .await
        .expect("a turn");
    assert_eq!(response.usage.total(), 9);
    let body = harness.server.last_request().expect("a request").body;
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn the_tool_call_id_of_the_provider_is_kept() {
    let harness = Harness::start(Protocol::OpenAi, "gpt-4o").await;
    harness
        .server
        .push(Turn::tool_call("get_run", json!({"run_id": "x"})).with_call_id("call_abc123"));
    let response = harness
        .client()
        .chat(&sample_request())
        .await
        .expect("a turn");
    assert_eq!(response.message.tool_calls[0].id, "call_abc123");
}
