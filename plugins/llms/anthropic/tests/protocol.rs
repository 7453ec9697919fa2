//! The Anthropic backend against a local Messages server.

use forecastlab_core::ai::{
    collect_stream, ChatMessage, ChatRequest, FailureReason, LlmErrorKind, ToolCall,
};
use forecastlab_llm_anthropic as _;
use forecastlab_llm_testing::conformance::{sample_request, Harness};
use forecastlab_llm_testing::{llm_conformance_tests, Protocol, Turn};
use serde_json::json;

llm_conformance_tests!(Protocol::Anthropic, "claude-sonnet-4-5");

/// A conversation that already went through two tool calls.
fn follow_up_request() -> ChatRequest {
    let mut request = sample_request();
    let call = |id: &str, run: &str| ToolCall {
        id: id.into(),
        name: "get_run".into(),
        arguments: json!({"run_id": run}),
        signature: None,
    };
    request.messages.extend([
        ChatMessage::assistant(
            "Checking both.",
            vec![call("toolu_1", "a"), call("toolu_2", "b")],
        ),
        ChatMessage::tool_result("toolu_1", r#"{"wape": 12.5}"#),
        ChatMessage::tool_result("toolu_2", r#"{"wape": 14.0}"#),
    ]);
    request
}

#[tokio::test]
async fn requests_follow_the_messages_format() {
    let harness = Harness::start(Protocol::Anthropic, "claude-sonnet-4-5").await;
    harness.server.push(Turn::text("a is better."));
    harness
        .client()
        .chat(&follow_up_request())
        .await
        .expect("a turn");
    let request = harness.server.last_request().expect("a request");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        request.header("x-api-key"),
        Some("sk-ant-api03-TestKey0123456789abcdefANTHROPIC")
    );
    assert_eq!(request.header("authorization"), None);
    let body = &request.body;
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(body["system"], "You are a forecasting assistant.");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "How did run abc do?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_run", "input": {"run_id": "a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_run", "input": {"run_id": "b"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"wape\": 12.5}"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "{\"wape\": 14.0}"},
            ]},
        ])
    );
    assert_eq!(
        body["tools"][0],
        json!({
            "name": "get_run",
            "description": "Reads one registry run.",
            "input_schema": {
                "type": "object",
                "properties": {"run_id": {"type": "string"}},
                "required": ["run_id"],
            },
        })
    );
}

#[tokio::test]
async fn streamed_tool_calls_are_numbered_from_zero_after_text() {
    let harness = Harness::start(Protocol::Anthropic, "claude-sonnet-4-5").await;
    harness
        .server
        .push(Turn::tool_call("get_run", json!({"run_id": "a"})).with_text("Looking it up."));
    let stream = harness
        .client()
        .chat_stream(&sample_request())
        .await
        .expect("a stream");
    let response = collect_stream(stream).await.expect("a turn");
    assert_eq!(response.message.content, "Looking it up.");
    assert_eq!(response.message.tool_calls[0].id, "toolu_00");
    assert_eq!(
        harness.server.last_request().expect("a request").body["stream"],
        true
    );
}

#[tokio::test]
async fn an_overloaded_error_event_mid_stream_is_provider_unavailable() {
    let harness = Harness::start(Protocol::Anthropic, "claude-sonnet-4-5").await;
    let body = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n",
        "event: error\n",
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    );
    harness
        .server
        .push(Turn::raw(200, "text/event-stream", body));
    let stream = harness
        .client()
        .chat_stream(&sample_request())
        .await
        .expect("a stream");
    let error = collect_stream(stream).await.expect_err("an error event");
    assert_eq!(error.status(), Some(529));
    assert_eq!(error.reason(), FailureReason::ProviderUnavailable);
    assert_eq!(error.detail(), "Overloaded");
}

#[tokio::test]
async fn unknown_stream_events_are_skipped() {
    let harness = Harness::start(Protocol::Anthropic, "claude-sonnet-4-5").await;
    let body = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n",
        "event: something_new\n",
        "data: {\"type\":\"something_new\",\"x\":1}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    harness
        .server
        .push(Turn::raw(200, "text/event-stream", body));
    let stream = harness
        .client()
        .chat_stream(&sample_request())
        .await
        .expect("a stream");
    let response = collect_stream(stream).await.expect("a turn");
    assert_eq!(response.message.content, "");
    assert_eq!(response.usage.total(), 7);
}

#[tokio::test]
async fn a_stream_without_message_stop_is_cut_short() {
    let harness = Harness::start(Protocol::Anthropic, "claude-sonnet-4-5").await;
    let body = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n",
    );
    harness
        .server
        .push(Turn::raw(200, "text/event-stream", body));
    let stream = harness
        .client()
        .chat_stream(&sample_request())
        .await
        .expect("a stream");
    let error = collect_stream(stream).await.expect_err("cut short");
    assert_eq!(error.kind(), LlmErrorKind::Connection);
}
