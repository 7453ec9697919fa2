//! The behaviour every LLM backend must show against its protocol server,
//! as one async function per case. Backend crates run them all with
//! [`llm_conformance_tests!`](crate::llm_conformance_tests), which builds the
//! backend through the core registry (so registration is tested too).

use std::time::{Duration, Instant};

use forecastlab_core::ai::{
    build_llm, collect_stream, ChatMessage, ChatRequest, ChatResponse, FailureReason, FinishReason,
    LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmSettings, ModelFailure, ModelId, ToolSpec,
    Usage,
};
use futures::StreamExt;
use serde_json::json;

use crate::server::refused_base_url;
use crate::{Protocol, ProviderServer, Turn};

/// A protocol server and the backend under test.
#[derive(Debug)]
pub struct Harness {
    /// The server the backend talks to.
    pub server: ProviderServer,
    model: ModelId,
}

impl Harness {
    /// Starts a server for `protocol`; backends are built for `model` (the
    /// name after the provider prefix).
    pub async fn start(protocol: Protocol, model: &str) -> Harness {
        let model = ModelId::new(protocol.provider(), model).expect("a valid model name");
        Harness {
            server: ProviderServer::start(protocol).await,
            model,
        }
    }

    /// The backend, configured with the server's settings.
    pub fn client(&self) -> Box<dyn LlmProvider> {
        self.client_with(self.server.settings())
    }

    /// The backend, configured with `settings`.
    pub fn client_with(&self, settings: LlmSettings) -> Box<dyn LlmProvider> {
        build_llm(&self.model, &settings).expect("the backend is registered and builds")
    }
}

/// A request with one user message and two tools.
pub fn sample_request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::system("You are a forecasting assistant."),
            ChatMessage::user("How did run abc do?"),
        ],
        tools: vec![
            ToolSpec {
                name: "get_run".into(),
                description: "Reads one registry run.".into(),
                parameters: json!({
                    "type": "object",
                    "properties": {"run_id": {"type": "string"}},
                    "required": ["run_id"],
                }),
            },
            ToolSpec {
                name: "list_runs".into(),
                description: "Lists registry runs.".into(),
                parameters: json!({
                    "type": "object",
                    "properties": {"page": {"type": "integer"}},
                }),
            },
        ],
        temperature: 0.1,
        max_tokens: 512,
        thinking_budget: None,
    }
}

/// Every event of a stream, and the error that ended it, if any.
pub async fn drain(client: &dyn LlmProvider) -> (Vec<LlmEvent>, Option<LlmError>) {
    let mut stream = client
        .chat_stream(&sample_request())
        .await
        .expect("the stream starts");
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

async fn chat(harness: &Harness) -> Result<ChatResponse, LlmError> {
    harness.client().chat(&sample_request()).await
}

async fn chat_streamed(harness: &Harness) -> Result<ChatResponse, LlmError> {
    let stream = harness.client().chat_stream(&sample_request()).await?;
    collect_stream(stream).await
}

/// A plain text turn: the text, the usage and `Stop`.
pub async fn text_turn(harness: &Harness) {
    harness
        .server
        .push(Turn::text("Run abc scored a WAPE of 12.5 %.").with_usage(120, 30));
    let response = chat(harness).await.expect("a text turn");
    assert_eq!(response.message.content, "Run abc scored a WAPE of 12.5 %.");
    assert!(response.message.tool_calls.is_empty());
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 120,
            output_tokens: 30
        }
    );
    assert_eq!(response.finish_reason, FinishReason::Stop);
    let request = harness.server.last_request().expect("one request");
    assert!(!request.streamed, "a plain turn must not ask for a stream");
}

/// A streamed text turn arrives as real deltas (each piece once, never the
/// text so far), then `Done` with the usage.
pub async fn streamed_text_arrives_as_deltas(harness: &Harness) {
    let text = "Seasonal naive wins on 7 of 10 series.";
    harness
        .server
        .push(Turn::text(text).in_pieces(4).with_usage(40, 9));
    let (events, error) = drain(harness.client().as_ref()).await;
    assert!(error.is_none(), "{error:?}");
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            LlmEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas.len(), 4, "{deltas:?}");
    assert_eq!(deltas.concat(), text);
    assert!(deltas.iter().all(|delta| delta.len() < text.len()));
    assert_eq!(
        events.last(),
        Some(&LlmEvent::Done {
            usage: Usage {
                input_tokens: 40,
                output_tokens: 9
            },
            finish_reason: FinishReason::Stop,
        })
    );
    let request = harness.server.last_request().expect("one request");
    assert!(request.streamed, "a streamed turn must ask for a stream");
}

/// A turn with text and two tool calls.
pub async fn tool_calls_turn(harness: &Harness) {
    harness.server.push(
        Turn::tool_call("get_run", json!({"run_id": "abc"}))
            .and_tool_call("list_runs", json!({"page": 2}))
            .with_text("Let me look."),
    );
    let response = chat(harness).await.expect("a tool-call turn");
    let calls = &response.message.tool_calls;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].name, "get_run");
    assert_eq!(calls[0].arguments, json!({"run_id": "abc"}));
    assert_eq!(calls[1].name, "list_runs");
    assert_eq!(calls[1].arguments, json!({"page": 2}));
    assert!(!calls[0].id.is_empty() && calls[0].id != calls[1].id);
    assert_eq!(response.message.content, "Let me look.");
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
}

/// Streamed tool calls: start, argument deltas (split across chunks where
/// the protocol splits them), end with parsed arguments — in order, per
/// call — and the same turn as the plain request.
pub async fn streamed_tool_calls_arrive_in_pieces(harness: &Harness) {
    let turn = Turn::tool_call(
        "get_run",
        json!({"run_id": "abc", "include": ["metrics", "params"]}),
    )
    .and_tool_call("list_runs", json!({"page": 2}))
    .in_pieces(4);
    harness.server.push(turn.clone()).push(turn);
    let (events, error) = drain(harness.client().as_ref()).await;
    assert!(error.is_none(), "{error:?}");
    for index in 0..2 {
        let positions: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, event)| event_index(event) == Some(index))
            .map(|(position, _)| position)
            .collect();
        let first = &events[positions[0]];
        let last = &events[*positions.last().expect("events of the call")];
        assert!(matches!(first, LlmEvent::ToolCallStart { .. }), "{first:?}");
        let LlmEvent::ToolCallEnd { call, .. } = last else {
            panic!("call {index} does not end with ToolCallEnd: {last:?}");
        };
        let fragments: String = positions
            .iter()
            .filter_map(|&position| match &events[position] {
                LlmEvent::ToolCallDelta { arguments, .. } => Some(arguments.as_str()),
                _ => None,
            })
            .collect();
        let reassembled: serde_json::Value =
            serde_json::from_str(&fragments).expect("the deltas join to the arguments");
        assert_eq!(reassembled, call.arguments);
    }
    let deltas_of_first = events
        .iter()
        .filter(|event| matches!(event, LlmEvent::ToolCallDelta { index: 0, .. }))
        .count();
    if harness.server.protocol() != Protocol::Gemini {
        // Gemini sends each call whole; the others split the arguments.
        assert!(deltas_of_first >= 2, "{events:?}");
    }
    assert!(matches!(
        events.last(),
        Some(LlmEvent::Done {
            finish_reason: FinishReason::ToolCalls,
            ..
        })
    ));
    let streamed = collect_events(events).await;
    let plain = chat(harness).await.expect("the same turn, not streamed");
    assert_eq!(names_and_arguments(&streamed), names_and_arguments(&plain));
}

fn event_index(event: &LlmEvent) -> Option<usize> {
    match event {
        LlmEvent::ToolCallStart { index, .. }
        | LlmEvent::ToolCallDelta { index, .. }
        | LlmEvent::ToolCallEnd { index, .. } => Some(*index),
        _ => None,
    }
}

async fn collect_events(events: Vec<LlmEvent>) -> ChatResponse {
    let stream = futures::stream::iter(events.into_iter().map(Ok)).boxed();
    collect_stream(stream).await.expect("a complete stream")
}

fn names_and_arguments(response: &ChatResponse) -> Vec<(String, serde_json::Value)> {
    response
        .message
        .tool_calls
        .iter()
        .map(|call| (call.name.clone(), call.arguments.clone()))
        .collect()
}

/// Error statuses keep their status and are classified per the spec, for
/// plain and streamed requests alike.
pub async fn http_errors_are_classified(harness: &Harness) {
    let cases = [
        (400, FailureReason::ProviderError),
        (401, FailureReason::AuthError),
        (403, FailureReason::AuthError),
        (404, FailureReason::ModelNotFound),
        (429, FailureReason::QuotaExhausted),
        (500, FailureReason::ProviderUnavailable),
        (503, FailureReason::ProviderUnavailable),
    ];
    for (status, reason) in cases {
        for streamed in [false, true] {
            let message = format!("scripted failure {status}");
            harness.server.push(Turn::error(status, message.clone()));
            let result = if streamed {
                chat_streamed(harness).await
            } else {
                chat(harness).await
            };
            let error = result.expect_err("an error status fails the turn");
            assert_eq!(error.status(), Some(status), "{error}");
            assert_eq!(error.reason(), reason, "{error}");
            assert_eq!(
                error.detail(),
                message,
                "the provider's message is the detail"
            );
            assert!(error.is_provider_failure());
        }
    }
}

/// Keys of every shape in an error body never reach the error: not the
/// configured key, not `sk-…`, `sk-ant-…`, `AIza…`, bearer tokens or
/// `key=` parameters; and the detail is capped at 300 characters.
pub async fn secrets_in_error_bodies_are_scrubbed(harness: &Harness) {
    let configured = harness.server.api_key();
    let secrets = [
        "sk-abcdefghijklmnopqrstuvwxyz0123",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx_yz-0123",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K_lmnopqrstu",
        "opaque-bearer-token-value",
        "query-key-value-123",
    ];
    let message = format!(
        "Incorrect API key provided: {}. Also {} and {} and {} and {}; \
         header Authorization: Bearer {}; url ?alt=sse&key={}",
        configured.unwrap_or("(none)"),
        secrets[0],
        secrets[1],
        secrets[2],
        secrets[3],
        secrets[4],
        secrets[5]
    );
    for status in [401, 429, 500] {
        harness.server.push(Turn::error(status, message.clone()));
        let error = chat(harness).await.expect_err("an error");
        let failure = ModelFailure::from_error(harness.model.model(), &error);
        let shown = [
            error.to_string(),
            format!("{error:?}"),
            serde_json::to_string(&failure).expect("serializable"),
        ];
        for text in shown {
            for secret in secrets.iter().chain(configured.as_ref()) {
                assert!(!text.contains(secret), "{secret} leaked into {text}");
            }
            assert!(text.contains("[redacted]"), "{text}");
        }
    }
    harness.server.push(Turn::error(
        500,
        format!("{} {}", "x".repeat(400), secrets[0]),
    ));
    let error = chat(harness).await.expect_err("an error");
    assert_eq!(error.detail().chars().count(), 300);
}

/// A wrong key is refused by the provider, and the refusal does not echo it.
pub async fn wrong_key_is_refused_without_echoing_it(harness: &Harness) {
    if harness.server.api_key().is_none() {
        return; // The protocol takes no key.
    }
    let wrong = "sk-wrong-key-0123456789abcdef";
    let client = harness.client_with(LlmSettings {
        api_key: Some(wrong.into()),
        ..harness.server.settings()
    });
    let error = client
        .chat(&sample_request())
        .await
        .expect_err("a wrong key");
    let status = error.status().expect("an HTTP status");
    assert!(matches!(status, 400 | 401 | 403), "{error}");
    assert!(!error.to_string().contains(wrong));
    assert_eq!(harness.server.pending(), 0);
}

/// Nothing listening: a connection error without status (provider_error),
/// for plain and streamed requests.
pub async fn connection_refused_is_a_provider_error(harness: &Harness) {
    let mut settings = harness.server.settings();
    let base = refused_base_url().await;
    settings.base_url = Some(format!("{base}{}", harness.server.protocol().base_path()));
    let client = harness.client_with(settings);
    let plain = client.chat(&sample_request()).await.expect_err("refused");
    let streamed = match client.chat_stream(&sample_request()).await {
        Err(error) => error,
        Ok(_) => panic!("a refused connection cannot start a stream"),
    };
    for error in [plain, streamed] {
        assert_eq!(error.kind(), LlmErrorKind::Connection, "{error}");
        assert_eq!(error.status(), None);
        assert_eq!(error.reason(), FailureReason::ProviderError);
        assert!(!error.detail().contains("127.0.0.1"), "{error}");
    }
}

/// A provider that never answers, or stops mid-stream, times out within
/// the configured limit.
pub async fn stalls_time_out(harness: &Harness) {
    let limit = Duration::from_millis(300);
    let client = harness.client_with(harness.server.settings().timeout(limit));
    harness.server.push(Turn::stall());
    let started = Instant::now();
    let error = client
        .chat(&sample_request())
        .await
        .expect_err("a stalled answer");
    assert_eq!(error.kind(), LlmErrorKind::Timeout, "{error}");
    assert!(started.elapsed() < limit * 5, "{:?}", started.elapsed());
    assert_eq!(error.reason(), FailureReason::ProviderError);

    harness.server.push(Turn::stall());
    let error = match client.chat_stream(&sample_request()).await {
        Err(error) => error,
        Ok(_) => panic!("a stream whose answer never starts cannot start"),
    };
    assert_eq!(error.kind(), LlmErrorKind::Timeout, "{error}");

    harness
        .server
        .push(Turn::text("This answer stops halfway.").stall_after(2));
    let started = Instant::now();
    let (_, error) = drain(client.as_ref()).await;
    let error = error.expect("a stream that stalls fails");
    assert_eq!(error.kind(), LlmErrorKind::Timeout, "{error}");
    assert!(started.elapsed() < limit * 5, "{:?}", started.elapsed());
}

/// A stream whose connection breaks is a connection error, not a short
/// answer.
pub async fn cut_streams_are_connection_errors(harness: &Harness) {
    harness
        .server
        .push(Turn::text("This answer breaks off.").cut_after(2));
    let (events, error) = drain(harness.client().as_ref()).await;
    let error = error.expect("a cut stream fails");
    assert_eq!(error.kind(), LlmErrorKind::Connection, "{error}");
    assert!(!events
        .iter()
        .any(|event| matches!(event, LlmEvent::Done { .. })));
}

/// Malformed tool-call JSON is model misbehaviour (not a provider
/// failure), plain and streamed.
pub async fn malformed_tool_calls_are_model_misbehaviour(harness: &Harness) {
    for streamed in [false, true] {
        harness
            .server
            .push(Turn::malformed_tool_call("get_run", r#"{"run_id": "abc"#));
        let result = if streamed {
            chat_streamed(harness).await
        } else {
            chat(harness).await
        };
        let error = result.expect_err("a malformed call");
        assert_eq!(error.kind(), LlmErrorKind::InvalidToolCall, "{error}");
        assert!(!error.is_provider_failure());
    }
}

/// A refusal reported with status 200 is `response_rejected`.
pub async fn refusals_are_rejected_responses(harness: &Harness) {
    for streamed in [false, true] {
        harness
            .server
            .push(Turn::refusal("I can't help with that."));
        let result = if streamed {
            chat_streamed(harness).await
        } else {
            chat(harness).await
        };
        let error = result.expect_err("a refusal");
        assert_eq!(error.kind(), LlmErrorKind::Rejected, "{error}");
        assert_eq!(error.reason(), FailureReason::ResponseRejected);
        assert!(error.is_provider_failure());
    }
}

/// A success status with a body that is not the protocol's JSON.
pub async fn undecodable_answers_are_invalid_responses(harness: &Harness) {
    harness
        .server
        .push(Turn::raw(200, "application/json", "<html>gateway</html>"));
    let error = chat(harness).await.expect_err("an undecodable answer");
    assert_eq!(error.kind(), LlmErrorKind::InvalidResponse, "{error}");
    assert_eq!(error.reason(), FailureReason::ProviderError);
}

/// Defines one `#[tokio::test]` per conformance case for a backend crate,
/// building the backend for `$model` through the core registry. The crate's
/// test must link the backend (`use forecastlab_llm_x as _;`).
///
/// ```ignore
/// use forecastlab_llm_openai as _;
/// forecastlab_llm_testing::llm_conformance_tests!(Protocol::OpenAi, "gpt-4o");
/// ```
#[macro_export]
macro_rules! llm_conformance_tests {
    ($protocol:expr, $model:expr) => {
        $crate::llm_conformance_tests!(@cases $protocol, $model;
            text_turn,
            streamed_text_arrives_as_deltas,
            tool_calls_turn,
            streamed_tool_calls_arrive_in_pieces,
            http_errors_are_classified,
            secrets_in_error_bodies_are_scrubbed,
            wrong_key_is_refused_without_echoing_it,
            connection_refused_is_a_provider_error,
            stalls_time_out,
            cut_streams_are_connection_errors,
            malformed_tool_calls_are_model_misbehaviour,
            refusals_are_rejected_responses,
            undecodable_answers_are_invalid_responses
        );
    };
    (@cases $protocol:expr, $model:expr; $($case:ident),+) => {
        $(
            #[tokio::test]
            async fn $case() {
                let harness = $crate::conformance::Harness::start($protocol, $model).await;
                $crate::conformance::$case(&harness).await;
            }
        )+
    };
}
