//! `WS /agents/stream` on SQLite and PostgreSQL against local servers
//! speaking the providers' real streaming protocols: text arriving as
//! pieces (never cumulative), `tool_call_start` / `tool_call_end` around
//! every tool call, the approval gate, bad frames and unknown sessions
//! answered with error events on a connection that stays open, model
//! misbehaviour, and the fallback chain — plus API keys of every shape fed
//! through provider error bodies, which must survive neither in the 502,
//! nor in the stream's error event, nor in any log line of this test
//! binary (every line is captured).

use forecastlab_llm_testing::{ProviderServer, Turn};
use forecastlab_tests::{
    agents::{logs, registered_run, scripted_app},
    both_backends, Backend, TestApp,
};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message};

both_backends!(
    text_and_tool_calls_stream_as_they_happen,
    bad_frames_and_unknown_sessions_keep_the_connection_open,
    the_approval_gate_misbehaviour_and_expiry_over_the_stream,
    sessions_stream_side_by_side,
    keys_of_every_shape_never_leave_the_server,
);

/// The scripted app, with the log capture installed first.
async fn app_with(backend: Backend, server: &ProviderServer, extra: &[(&str, &str)]) -> TestApp {
    logs();
    scripted_app(backend, server, extra).await
}

async fn session(app: &TestApp) -> String {
    let created = app
        .post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await;
    created.assert_status(201)["session_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(app: &TestApp) -> Socket {
    let url = app.url("/agents/stream").replacen("http", "ws", 1);
    connect_async(url).await.expect("websocket connects").0
}

async fn send_text(socket: &mut Socket, text: &str) {
    socket
        .send(Message::Text(text.to_owned().into()))
        .await
        .expect("frame sent");
}

/// Sends one message and reads events up to the `complete` or `error`
/// that ends it (returned last).
async fn ask(socket: &mut Socket, session_id: &str, message: &str) -> Vec<Value> {
    send_text(
        socket,
        &json!({"session_id": session_id, "message": message}).to_string(),
    )
    .await;
    until_end(socket).await
}

async fn until_end(socket: &mut Socket) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), socket.next())
            .await
            .expect("an event within 30 s");
        match next {
            Some(Ok(Message::Text(text))) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                assert!(
                    chrono::DateTime::parse_from_rfc3339(event["timestamp"].as_str().unwrap())
                        .is_ok()
                );
                let end = matches!(
                    event["event_type"].as_str(),
                    Some("complete") | Some("error")
                );
                events.push(event);
                if end {
                    return events;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("the stream ended: {other:?} after {events:?}"),
        }
    }
}

fn of_type<'a>(events: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["event_type"] == event_type)
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["event_type"].as_str().unwrap())
        .collect()
}

async fn text_and_tool_calls_stream_as_they_happen(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = app_with(backend, &server, &[]).await;
    let run_id = registered_run(&app, 7, true).await;
    let id = session(&app).await;
    let answer = format!("Run {run_id} is the only naive run of store 7.");
    server
        .push(
            Turn::tool_call("list_runs", json!({"store_id": 7}))
                .and_tool_call("get_run", json!({"run_id": run_id}))
                .with_text("Let me look."),
        )
        .push(Turn::text(answer.clone()).in_pieces(5).with_usage(100, 50));
    let mut socket = open(&app).await;
    let events = ask(&mut socket, &id, "Which runs exist for store 7?").await;

    // Order: the first turn's text, both calls bracketed, the answer's
    // pieces, then complete.
    let order = types(&events);
    let first_start = order.iter().position(|t| *t == "tool_call_start").unwrap();
    let last_end = order.iter().rposition(|t| *t == "tool_call_end").unwrap();
    assert_eq!(
        &order[first_start..=last_end],
        [
            "tool_call_start",
            "tool_call_end",
            "tool_call_start",
            "tool_call_end"
        ]
    );
    assert!(order[..first_start].iter().all(|t| *t == "text_delta"));
    assert!(order[last_end + 1..order.len() - 1]
        .iter()
        .all(|t| *t == "text_delta"));
    assert_eq!(order.last(), Some(&"complete"));

    // Deltas are pieces: they join to the text, and none repeats what came
    // before it.
    let before: Vec<&str> = events[..first_start]
        .iter()
        .map(|e| e["data"]["delta"].as_str().unwrap())
        .collect();
    assert_eq!(before.concat(), "Let me look.");
    let after: Vec<&str> = events[last_end + 1..events.len() - 1]
        .iter()
        .map(|e| e["data"]["delta"].as_str().unwrap())
        .collect();
    assert_eq!(after.len(), 5, "{after:?}");
    assert_eq!(after.concat(), answer);
    assert!(after.iter().all(|piece| piece.len() < answer.len()));

    let starts = of_type(&events, "tool_call_start");
    let ends = of_type(&events, "tool_call_end");
    assert_eq!(starts[0]["data"]["tool_name"], "list_runs");
    assert_eq!(starts[0]["data"]["arguments"], json!({"store_id": 7}));
    assert_eq!(starts[1]["data"]["tool_name"], "get_run");
    for (start, end) in starts.iter().zip(&ends) {
        assert_eq!(start["data"]["tool_call_id"], end["data"]["tool_call_id"]);
        assert!(end["data"]["duration_ms"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(ends[0]["data"]["result"]["total"], 1);
    assert_eq!(ends[1]["data"]["result"]["run_id"], run_id.as_str());

    let complete = &events.last().unwrap()["data"];
    assert_eq!(complete["message"], answer.as_str());
    assert_eq!(complete["tool_calls_count"], 2);
    assert_eq!(complete["pending_approval"], false);
    assert_eq!(complete["tokens_used"], 15 + 150);

    // The provider was asked for streams; the session was updated as by
    // REST.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|request| request.streamed));
    let stored = app.get(&format!("/agents/sessions/{id}")).await;
    let stored = stored.assert_status(200);
    assert_eq!(stored["tool_calls_count"], 2);
    assert_eq!(stored["total_tokens_used"], 165);
    let history = stored["message_history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["content"], answer.as_str());
    let audit = app.get(&format!("/agents/sessions/{id}/tool-calls")).await;
    assert_eq!(
        audit.assert_status(200)["tool_calls"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The same connection takes the next message.
    server.push(Turn::text("Nothing else."));
    let again = ask(&mut socket, &id, "Anything else?").await;
    assert_eq!(again.last().unwrap()["data"]["message"], "Nothing else.");
    assert_eq!(
        app.get(&format!("/agents/sessions/{id}"))
            .await
            .assert_status(200)["message_history"]
            .as_array()
            .unwrap()
            .len(),
        history.len() + 2
    );
}

async fn bad_frames_and_unknown_sessions_keep_the_connection_open(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = app_with(backend, &server, &[]).await;
    let id = session(&app).await;
    let mut socket = open(&app).await;

    send_text(&mut socket, "{not json").await;
    let invalid = until_end(&mut socket).await;
    assert_eq!(invalid.len(), 1);
    let data = &invalid[0]["data"];
    assert_eq!(invalid[0]["event_type"], "error");
    assert!(data["error"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JSON: "));
    assert_eq!(data["recoverable"], true);

    for frame in [
        json!({"session_id": id}),
        json!({"message": "hi"}),
        json!({"session_id": "", "message": "hi"}),
        json!({"session_id": id, "message": 42}),
        json!([id, "hi"]),
    ] {
        send_text(&mut socket, &frame.to_string()).await;
        let events = until_end(&mut socket).await;
        assert_eq!(events.len(), 1, "{frame}");
        assert_eq!(
            events[0]["data"]["error"],
            "Missing required fields: session_id and message"
        );
        assert_eq!(events[0]["data"]["error_type"], "unknown");
        assert_eq!(events[0]["data"]["recoverable"], true);
    }
    let too_long = ask(&mut socket, &id, &"x".repeat(10_001)).await;
    assert_eq!(too_long[0]["data"]["error_type"], "validation_error");
    let blank = ask(&mut socket, &id, "   ").await;
    assert_eq!(blank[0]["data"]["error_type"], "validation_error");

    let missing = "0123456789abcdef0123456789abcdef";
    let unknown = ask(&mut socket, missing, "hi").await;
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["data"]["error_type"], "session_not_found");
    assert_eq!(unknown[0]["data"]["recoverable"], false);
    assert_eq!(
        unknown[0]["data"]["error"],
        format!("Session not found: {missing}")
    );

    // Nothing reached the model or the session; the connection still works.
    assert!(server.requests().is_empty());
    let stored = app.get(&format!("/agents/sessions/{id}")).await;
    assert_eq!(stored.assert_status(200)["message_history"], json!([]));
    server.push(Turn::text("Still here."));
    let fine = ask(&mut socket, &id, "hello").await;
    assert_eq!(types(&fine).last(), Some(&"complete"));
    assert_eq!(fine.last().unwrap()["data"]["message"], "Still here.");

    // A closed session is an error event too.
    app.delete(&format!("/agents/sessions/{id}"))
        .await
        .assert_status(204);
    let closed = ask(&mut socket, &id, "hello").await;
    assert_eq!(closed[0]["data"]["error_type"], "session_closed");
    assert_eq!(closed[0]["data"]["recoverable"], false);
}

async fn the_approval_gate_misbehaviour_and_expiry_over_the_stream(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = app_with(backend, &server, &[]).await;
    let run_id = registered_run(&app, 3, true).await;
    let id = session(&app).await;
    let mut socket = open(&app).await;
    server.push(Turn::tool_call(
        "create_alias",
        json!({"alias_name": "production", "run_id": run_id}),
    ));
    let events = ask(&mut socket, &id, "Promote the run").await;
    assert_eq!(
        types(&events),
        [
            "tool_call_start",
            "tool_call_end",
            "approval_required",
            "complete"
        ]
    );
    assert_eq!(events[1]["data"]["result"]["status"], "approval_required");
    let action = &events[2]["data"]["action"];
    assert_eq!(action["action_type"], "create_alias");
    assert_eq!(
        events[2]["data"]["message"],
        "Human approval required before proceeding."
    );
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    assert_eq!(events[3]["data"]["pending_approval"], true);
    app.get("/registry/aliases/production")
        .await
        .assert_problem(404, "NOT_FOUND");

    // While the action waits, the model is not asked.
    let asked = server.requests().len();
    let waiting = ask(&mut socket, &id, "Anything else?").await;
    assert_eq!(types(&waiting), ["approval_required", "complete"]);
    assert_eq!(waiting[1]["data"]["pending_approval"], true);
    assert_eq!(waiting[1]["data"]["tokens_used"], 0);
    assert_eq!(server.requests().len(), asked);
    let decided = app
        .post(
            &format!("/agents/sessions/{id}/approve"),
            &json!({"action_id": action_id, "approved": true}),
        )
        .await;
    assert_eq!(decided.assert_status(200)["status"], "executed");

    // A malformed tool call is the model's misbehaviour: a recoverable
    // error event, nothing saved.
    let before = app.get(&format!("/agents/sessions/{id}")).await;
    let before = before.assert_status(200).clone();
    server.push(Turn::malformed_tool_call("get_run", "{\"run_id\": "));
    let misbehaved = ask(&mut socket, &id, "Show the run").await;
    let last = &misbehaved.last().unwrap()["data"];
    assert_eq!(last["error_type"], "model_behavior_error");
    assert_eq!(last["recoverable"], true);
    assert!(last["error"]
        .as_str()
        .unwrap()
        .contains("invalid tool call"));
    let after = app.get(&format!("/agents/sessions/{id}")).await;
    assert_eq!(
        after.assert_status(200)["message_history"],
        before["message_history"]
    );

    // A provider failure with no fallback left.
    server.push(Turn::error(503, "overloaded"));
    let failed = ask(&mut socket, &id, "again").await;
    let last = &failed.last().unwrap()["data"];
    assert_eq!(last["error_type"], "fallback_exhausted");
    assert_eq!(last["recoverable"], true);
    assert_eq!(last["failures"][0]["reason"], "provider_unavailable");
    assert_eq!(last["failures"][0]["status_code"], 503);
    assert!(last["error"]
        .as_str()
        .unwrap()
        .starts_with("The configured agent model failed — openai:gpt-4o"));

    // An expired session.
    let short = app_with(backend, &server, &[("AGENT_SESSION_TTL_MINUTES", "0")]).await;
    let expiring = session(&short).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut socket = open(&short).await;
    let expired = ask(&mut socket, &expiring, "hello").await;
    assert_eq!(expired[0]["data"]["error_type"], "session_expired");
    assert_eq!(expired[0]["data"]["recoverable"], false);
    assert_eq!(
        short
            .get(&format!("/agents/sessions/{expiring}"))
            .await
            .assert_status(200)["status"],
        "expired"
    );
}

async fn sessions_stream_side_by_side(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = app_with(backend, &server, &[]).await;
    let sessions = 8;
    for _ in 0..sessions {
        server.push(Turn::text("Side by side.").in_pieces(4));
    }
    let mut ids = Vec::new();
    for _ in 0..sessions {
        ids.push(session(&app).await);
    }
    let runs = ids.iter().map(|id| {
        let app = &app;
        async move {
            let mut socket = open(app).await;
            ask(&mut socket, id, "hello").await
        }
    });
    for events in futures::future::join_all(runs).await {
        assert_eq!(events.last().unwrap()["event_type"], "complete");
        let text: String = of_type(&events, "text_delta")
            .iter()
            .map(|e| e["data"]["delta"].as_str().unwrap())
            .collect();
        assert_eq!(text, "Side by side.");
    }
    for id in &ids {
        let stored = app.get(&format!("/agents/sessions/{id}")).await;
        assert_eq!(
            stored.assert_status(200)["message_history"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}

async fn keys_of_every_shape_never_leave_the_server(backend: Backend) {
    let primary = ProviderServer::openai().await;
    let fallback = ProviderServer::gemini().await;
    let (openai_base, gemini_base) = (primary.base_url(), fallback.base_url());
    logs();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("AGENT_DEFAULT_MODEL", "openai:gpt-4o"),
            ("AGENT_FALLBACK_MODEL", "google-gla:gemini-2.5-flash"),
            ("OPENAI_API_KEY", primary.api_key().unwrap()),
            ("OPENAI_BASE_URL", openai_base.as_str()),
            ("GOOGLE_API_KEY", fallback.api_key().unwrap()),
            ("GOOGLE_BASE_URL", gemini_base.as_str()),
            ("LOG_LEVEL", "trace"),
        ],
    )
    .await;
    let id = session(&app).await;
    let secrets = [
        "sk-proj-Le4kedOpenAiKey0123456789abcdef",
        "sk-ant-api03-Le4kedAnthropicKey0123456789",
        "sk-Le4kedLegacyKey0123456789",
        "AIzaSyLe4kedGoogleKey0123456789abcdef",
        "b3ar3r-t0ken-Le4ked-9f8e7d6c5b4a",
        "qu3ryKeyLe4ked0123456789",
        "t0kenValueLe4ked-0123",
        "hdrKeyLe4ked0123456789",
    ];
    let bodies = |round: usize| {
        (
            format!(
                "Incorrect API key provided: {} (round {round}). Authorization: Bearer {} was \
                 rejected; also tried {}",
                secrets[0], secrets[4], secrets[2]
            ),
            format!(
                "API key not valid. Please pass a valid API key. GET \
                 /v1beta/models/gemini-2.5-flash:generateContent?key={} x-goog-api-key: {} \
                 (was {}, {}; token={}) round {round}",
                secrets[5], secrets[7], secrets[3], secrets[1], secrets[6]
            ),
        )
    };
    let leaked = |text: &str| -> Vec<String> {
        secrets
            .iter()
            .copied()
            .chain([primary.api_key().unwrap(), fallback.api_key().unwrap()])
            .filter(|secret| text.contains(secret))
            .map(str::to_owned)
            .collect()
    };

    // Over REST: the 502 is classified and scrubbed.
    let (first, second) = bodies(1);
    primary.push(Turn::error(401, first));
    fallback.push(Turn::error(400, second));
    let failed = app
        .post(
            &format!("/agents/sessions/{id}/chat"),
            &json!({"message": "hi"}),
        )
        .await;
    let problem = failed.assert_problem(502, "AGENT_FALLBACK_EXHAUSTED");
    assert_eq!(
        primary.pending() + fallback.pending(),
        0,
        "both legs answered"
    );
    let failures = problem["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0]["reason"], "auth_error");
    assert_eq!(failures[1]["model_name"], "google-gla:gemini-2.5-flash");
    assert!(failures
        .iter()
        .all(|f| f["detail"].as_str().unwrap().contains("[redacted]")));
    assert!(leaked(&failed.text).is_empty(), "{}", failed.text);

    // Over the stream: the error event is scrubbed the same way.
    let (first, second) = bodies(2);
    primary.push(Turn::error(429, first));
    fallback.push(Turn::error(403, second));
    let mut socket = open(&app).await;
    let events = ask(&mut socket, &id, "hi").await;
    let last = events.last().unwrap();
    assert_eq!(last["data"]["error_type"], "fallback_exhausted");
    assert_eq!(last["data"]["failures"].as_array().unwrap().len(), 2);
    let frames = serde_json::to_string(&events).unwrap();
    assert!(leaked(&frames).is_empty(), "{frames}");

    // And nothing in any log line of this process.
    let captured = logs().text();
    assert!(
        captured.contains("agent model failed"),
        "the failures were logged"
    );
    let found = leaked(&captured);
    assert!(found.is_empty(), "leaked into the logs: {found:?}");
}
