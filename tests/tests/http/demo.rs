//! /demo: the pipeline over HTTP and over the WebSocket (legacy and
//! showcase flows, with the LLM steps answered by a local OpenAI-protocol
//! server: approve, reject, no decision), every request rule, the
//! one-run-at-a-time lock, the HITL relay — on SQLite and PostgreSQL.

use forecastlab_llm_testing::{ProviderServer, Turn};
use forecastlab_tests::{both_backends, Backend, TestApp};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message};

both_backends!(
    legacy_flow_over_http,
    legacy_flow_over_the_websocket,
    bad_start_frames_are_one_error_event,
    request_rules_are_422,
    showcase_with_operator_decisions,
    showcase_auto_approves_without_a_decision,
    hitl_relay_without_a_pending_action,
);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(app: &TestApp) -> Socket {
    let url = app.url("/demo/stream").replacen("http", "ws", 1);
    connect_async(url).await.expect("websocket connects").0
}

/// Reads events until the server closes.
async fn read_all(socket: &mut Socket) -> Vec<Value> {
    let mut events = Vec::new();
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => events.push(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    events
}

/// Reads events until one satisfies `until` (returned last).
async fn read_until(socket: &mut Socket, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut events = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            let event: Value = serde_json::from_str(&text).unwrap();
            let done = until(&event);
            events.push(event);
            if done {
                return events;
            }
        }
    }
    panic!("the stream ended before the expected event: {events:?}");
}

/// `(step_name, status)` of every terminal `step_complete`.
fn statuses(steps: &[Value]) -> Vec<(String, String)> {
    steps
        .iter()
        .filter(|e| e["event_type"] == "step_complete" && e["status"] != "running")
        .map(|e| {
            (
                e["step_name"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

async fn legacy_flow_over_http(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post("/demo/run", &json!({"skip_seed": false, "seed": 7}))
        .await;
    let body = response.assert_ok().clone();
    let steps = body["steps"].as_array().unwrap();
    assert_eq!(
        statuses(steps),
        pairs(&[
            ("precheck", "pass"),
            ("reset", "skip"),
            ("seed", "pass"),
            ("status", "pass"),
            ("features", "pass"),
            ("train", "pass"),
            ("backtest", "pass"),
            ("register", "pass"),
            ("verify", "pass"),
            ("agent", "skip"),
            ("cleanup", "skip"),
        ]),
        "{body}"
    );
    assert_eq!(body["overall_status"], "pass");
    assert_eq!(body["alias"], "demo-production");
    assert_eq!(body["workspace_id"], Value::Null);
    let winner = body["winner_model_type"].as_str().unwrap();
    assert!(["naive", "seasonal_naive", "moving_average"].contains(&winner));
    assert!(body["winner_wape"].as_f64().unwrap() >= 0.0);
    assert!(body["wall_clock_s"].as_f64().unwrap() > 0.0);
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(step["step_index"], i + 1);
        assert_eq!(step["total_steps"], 11);
        assert_eq!(step["phase_total"], 6);
    }
    assert_eq!(steps[0]["detail"], "/health -> ok");
    assert_eq!(steps[5]["phase_name"], "modeling");
    assert_eq!(steps[5]["phase_index"], 2);
    let backtest = &steps[6]["data"];
    assert_eq!(backtest["winner"], winner);
    assert_eq!(backtest["per_model"].as_object().unwrap().len(), 3);
    assert!(steps[9]["detail"].as_str().unwrap().contains("no API key"));
    // The alias points at the registered winner, whose artifact verifies.
    let run_id = body["winning_run_id"].as_str().unwrap();
    let alias = app.get("/registry/aliases/demo-production").await;
    assert_eq!(alias.assert_ok()["run_id"], run_id);
    let run = app.get(&format!("/registry/runs/{run_id}")).await;
    let run = run.assert_ok();
    assert_eq!(run["model_type"], winner);
    assert_eq!(run["status"], "success");
    assert!(run["artifact_uri"].as_str().unwrap().starts_with("demo/"));

    // A second run on the data already there, with the user's focus pair,
    // two models and a backtest config.
    let again = app
        .post(
            "/demo/run",
            &json!({"user_scope": {"store_id": 2, "product_id": 3},
                    "train_model_types": ["naive", "seasonal_naive"],
                    "backtest": {"horizon": 7, "n_splits": 2, "metric": "mae"}}),
        )
        .await;
    let again = again.assert_ok();
    assert_eq!(again["overall_status"], "pass", "{again}");
    let status = &again["steps"][3];
    assert_eq!(status["data"]["store_id"], 2);
    assert_eq!(status["data"]["user_scope_applied"], true);
    assert!(status["detail"]
        .as_str()
        .unwrap()
        .contains("(user-selected)"));
    assert_eq!(
        again["steps"][5]["data"]["trained"],
        json!(["naive", "seasonal_naive"])
    );
    // A dangling focus pair warns and falls back to the first pair.
    let dangling = app
        .post(
            "/demo/run",
            &json!({"user_scope": {"store_id": 999, "product_id": 1}}),
        )
        .await;
    let dangling = dangling.assert_ok();
    assert_eq!(dangling["steps"][3]["status"], "warn");
    assert_eq!(dangling["overall_status"], "pass");
    // An opt-in model whose flag is off fails the train step, naming it.
    let optin = app
        .post("/demo/run", &json!({"train_model_types": ["lightgbm"]}))
        .await;
    let optin = optin.assert_ok();
    assert_eq!(optin["overall_status"], "fail");
    let train = optin["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(train["step_name"], "train");
    assert!(
        train["detail"]
            .as_str()
            .unwrap()
            .contains("FORECAST_ENABLE_LIGHTGBM"),
        "{train}"
    );
}

async fn legacy_flow_over_the_websocket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Nothing seeded: the status step fails and stops the run; the
    // failure reaches the client, then pipeline_complete, then close.
    let mut socket = open(&app).await;
    socket.send(Message::Text("{}".into())).await.unwrap();
    let events = read_all(&mut socket).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 9, "{events:?}");
    assert_eq!(kinds.last(), Some(&"pipeline_complete"));
    assert_eq!(events[0]["event_type"], "step_start");
    assert_eq!(events[0]["status"], Value::Null);
    assert_eq!(events[0]["phase_name"], "data");
    let failed = &events[7];
    assert_eq!(failed["step_name"], "status");
    assert_eq!(failed["status"], "fail");
    assert!(failed["detail"]
        .as_str()
        .unwrap()
        .contains("seed the database first"));
    let summary = events.last().unwrap();
    assert_eq!(summary["status"], "fail");
    assert_eq!(summary["step_name"], "summary");
    assert_eq!(summary["step_index"], 11);
    assert_eq!(summary["phase_name"], Value::Null);
    assert!(summary["detail"]
        .as_str()
        .unwrap()
        .starts_with("runs=0 winner=n/a wall_clock="));
    assert_eq!(summary["data"]["alias"], Value::Null);

    // Seeded and kept: a full green run recorded as a workspace.
    let mut socket = open(&app).await;
    let frame = json!({"skip_seed": false, "preservation": "keep", "workspace_name": "ws-run",
                       "unknown_future_key": true});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let events = read_all(&mut socket).await;
    assert_eq!(events.len(), 23, "{events:?}");
    let summary = events.last().unwrap();
    assert_eq!(summary["status"], "pass", "{events:?}");
    let workspace_id = summary["data"]["workspace_id"].as_str().unwrap();
    let detail = app.get(&format!("/demo/workspaces/{workspace_id}")).await;
    let detail = detail.assert_ok();
    assert_eq!(detail["status"], "completed");
    assert_eq!(detail["name"], "ws-run");
    assert_eq!(detail["config_schema_version"], 2);
    assert_eq!(detail["created_objects"]["alias"], "demo-production");
    assert_eq!(
        detail["created_objects"]["winning_run_id"],
        summary["data"]["winning_run_id"]
    );
    assert_eq!(
        detail["result_summary"]["winner_model_type"],
        summary["data"]["winner_model_type"]
    );
    let phases = detail["phase_summaries"]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 6);
    assert_eq!(phases[0]["steps"].as_array().unwrap().len(), 5);
    assert_eq!(detail["approval_events"], Value::Null);

    // A client that leaves mid-run: the run finishes, the lock is released
    // and the next run starts.
    let mut socket = open(&app).await;
    socket.send(Message::Text("{}".into())).await.unwrap();
    let _ = socket.next().await;
    drop(socket);
    let mut settled = false;
    for _ in 0..100 {
        let response = app.post("/demo/run", &json!({})).await;
        if response.status == 200 {
            settled = true;
            break;
        }
        response.assert_problem(409, "CONFLICT");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(settled, "the lock was never released");
}

async fn bad_start_frames_are_one_error_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        ("not json".to_owned(), "invalid start frame: "),
        (
            json!({"workspace_name": "x"}).to_string(),
            "workspace_name requires preservation='keep'",
        ),
        (
            json!({"train_model_types": ["naive", "nope"]}).to_string(),
            "Unknown model type(s)",
        ),
        (
            json!({"backtest": {"horizon": 3, "gap": 3}}).to_string(),
            "horizon (3) must be greater than gap (3)",
        ),
        (json!({"seed": "42"}).to_string(), "invalid start frame: "),
    ];
    for (frame, needle) in cases {
        let mut socket = open(&app).await;
        socket
            .send(Message::Text(frame.clone().into()))
            .await
            .unwrap();
        let events = read_all(&mut socket).await;
        assert_eq!(events.len(), 1, "{frame}: {events:?}");
        let error = &events[0];
        assert_eq!(error["event_type"], "error");
        assert_eq!(error["step_name"], "pipeline");
        assert_eq!(error["step_index"], 0);
        assert_eq!(error["total_steps"], 0);
        assert_eq!(error["status"], "fail");
        let detail = error["detail"].as_str().unwrap();
        assert!(detail.starts_with("invalid start frame: "), "{detail}");
        assert!(detail.contains(needle), "{frame}: {detail}");
    }
}

async fn request_rules_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({"workspace_name": "a"}), "workspace_name"),
        (
            json!({"preservation": "keep", "workspace_name": "Bad Name"}),
            "workspace_name",
        ),
        (
            json!({"replayed_from_workspace_id": "0".repeat(32)}),
            "replayed_from_workspace_id",
        ),
        (
            json!({"preservation": "keep", "replayed_from_workspace_id": "xyz"}),
            "replayed_from_workspace_id",
        ),
        (json!({"seed_overrides": {"stores": 2}}), "seed_overrides"),
        (
            json!({"skip_seed": false, "seed_overrides": {"stores": 0}}),
            "seed_overrides.stores",
        ),
        (
            json!({"skip_seed": false, "seed_overrides": {"bogus": 1}}),
            "seed_overrides.bogus",
        ),
        (
            json!({"skip_seed": false, "scenario": "holiday_rush", "seed_overrides": {"window_days": 100}}),
            "seed_overrides.window_days",
        ),
        (
            json!({"user_scope": {"store_id": 0, "product_id": 1}}),
            "user_scope.store_id",
        ),
        (
            json!({"user_scope": {"store_id": 1, "product_id": 1, "x": 1}}),
            "user_scope.x",
        ),
        (json!({"train_model_types": []}), "train_model_types"),
        (
            json!({"train_model_types": ["naive", "naive"]}),
            "train_model_types",
        ),
        (json!({"train_model_types": ["nope"]}), "train_model_types"),
        (json!({"backtest": {"horizon": 5, "gap": 6}}), "backtest"),
        (json!({"backtest": {"n_splits": 1}}), "backtest.n_splits"),
        (json!({"backtest": {"metric": "mape"}}), "backtest.metric"),
        (json!({"seed": -1}), "seed"),
        (json!({"seed": "4"}), "seed"),
        (json!({"reset": 1}), "reset"),
        (json!({"scenario": "nope"}), "scenario"),
        (json!({"preservation": "forever"}), "preservation"),
    ];
    for (body, field) in cases {
        app.post("/demo/run", &body).await.assert_invalid(field);
    }
    assert_eq!(app.rows("showcase_workspace").await, 0);
    assert_eq!(app.rows("model_run").await, 0);
}

/// An app whose agent model is answered by `server`; the HITL window is
/// `window` seconds.
async fn agent_app(backend: Backend, server: &ProviderServer, window: &str) -> TestApp {
    let base = server.base_url();
    TestApp::spawn_with(
        backend,
        &[
            ("AGENT_DEFAULT_MODEL", "openai:gpt-4o"),
            ("AGENT_FALLBACK_MODEL", "none"),
            ("OPENAI_API_KEY", server.api_key().unwrap()),
            ("OPENAI_BASE_URL", base.as_str()),
            ("AGENT_TIMEOUT_SECONDS", "20"),
            ("DEMO_HITL_WINDOW_SECONDS", window),
        ],
    )
    .await
}

/// The scripted agent asks to create an alias (a gated action).
fn gated_turn() -> Turn {
    Turn::tool_call(
        "create_alias",
        json!({"alias_name": "agent-pick", "run_id": "00000000000000000000000000000000"}),
    )
}

const SHOWCASE_STEPS: [&str; 24] = [
    "precheck",
    "reset",
    "seed",
    "status",
    "features",
    "phase2_enrichment",
    "historical_backfill",
    "train",
    "v2_train",
    "backtest",
    "register",
    "champion_compat_compare",
    "stale_alias_trigger",
    "safer_promote_flow",
    "batch_preset",
    "scenario_simulate_and_save",
    "multi_plan_compare",
    "embedding_provider_probe",
    "rag_index_subset",
    "rag_retrieve_probe",
    "verify",
    "agent_hitl_flow",
    "ops_snapshot",
    "cleanup",
];

async fn showcase_with_operator_decisions(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = agent_app(backend, &server, "60").await;
    server.push(gated_turn());
    let mut socket = open(&app).await;
    let frame = json!({"scenario": "showcase_rich", "skip_seed": false,
                       "preservation": "keep", "workspace_name": "showcase-1"});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let before = read_until(&mut socket, |e| {
        e["event_type"] == "step_complete" && e["status"] == "running"
    })
    .await;
    let waiting = before.last().unwrap().clone();
    assert_eq!(waiting["step_name"], "agent_hitl_flow");
    assert_eq!(waiting["step_index"], 22);
    assert_eq!(waiting["phase_name"], "agents");
    let data = &waiting["data"];
    assert_eq!(data["awaiting_approval"], true);
    assert_eq!(data["decision_url"], "/demo/hitl-decision");
    assert_eq!(data["decision_window_s"], 60.0);
    let action_id = data["action_id"].as_str().unwrap().to_owned();
    for (step, status) in statuses(&before) {
        assert_ne!(status, "fail", "{step} failed: {before:?}");
    }
    let names: Vec<String> = statuses(&before)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, SHOWCASE_STEPS[..21]);

    // While the run waits: a second run is refused, a wrong id is 404.
    app.post("/demo/run", &json!({}))
        .await
        .assert_problem(409, "CONFLICT");
    let mut busy = open(&app).await;
    busy.send(Message::Text("{}".into())).await.unwrap();
    let refused = read_all(&mut busy).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0]["detail"],
        "A demo pipeline run is already in progress."
    );
    let decide = |id: &str| json!({"action_id": id, "decision": "rejected", "reason": "not now"});
    app.post("/demo/hitl-decision", &decide("ffff"))
        .await
        .assert_problem_mentions(404, "NOT_FOUND", "No pending HITL action: ffff");
    let applied = app.post("/demo/hitl-decision", &decide(&action_id)).await;
    assert_eq!(applied.status, 204, "{}", applied.text);
    app.post("/demo/hitl-decision", &decide(&action_id))
        .await
        .assert_problem_mentions(409, "CONFLICT", "Action already decided");

    let after = read_all(&mut socket).await;
    let hitl = &after[0];
    assert_eq!(hitl["step_name"], "agent_hitl_flow");
    assert_eq!(hitl["status"], "pass", "{hitl}");
    assert_eq!(hitl["detail"], "rejected by operator");
    assert_eq!(hitl["data"]["approval_decision"], "rejected");
    let summary = after.last().unwrap();
    assert_eq!(summary["event_type"], "pipeline_complete");
    assert_eq!(summary["status"], "pass", "{after:?}");
    assert_eq!(summary["step_index"], 24);
    let names: Vec<String> = statuses(&after).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, SHOWCASE_STEPS[21..]);
    // The rejected action never ran.
    app.get("/registry/aliases/agent-pick")
        .await
        .assert_problem(404, "NOT_FOUND");
    // The cleanup restored the alias to the registered champion.
    let alias = app.get("/registry/aliases/demo-production").await;
    assert_eq!(
        alias.assert_ok()["run_id"],
        summary["data"]["winning_run_id"]
    );

    // The kept workspace records the story.
    let id = summary["data"]["workspace_id"].as_str().unwrap();
    let detail = app.get(&format!("/demo/workspaces/{id}")).await;
    let detail = detail.assert_ok();
    let approvals = detail["approval_events"].as_array().unwrap();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0]["decision"], "rejected");
    assert_eq!(approvals[0]["auto_approved"], false);
    assert_eq!(approvals[0]["reason"], "not now");
    assert_eq!(approvals[0]["tool_name"], "create_alias");
    assert_eq!(
        approvals[0]["tool_call_summary"]["arguments_keys"],
        json!(["alias_name", "run_id"])
    );
    assert_eq!(detail["rag_events"].as_array().unwrap().len(), 3);
    let created = &detail["created_objects"];
    assert_eq!(created["scenario_plan_ids"].as_array().unwrap().len(), 2);
    assert!(created["stale_alias_run_id"].is_string());
    assert!(created["v2_run_id"].is_string());
    assert!(created["batch_id"].is_string());
    assert_eq!(detail["job_ids"].as_array().unwrap().len(), 3);
    assert_eq!(
        detail["phase_summaries"]["phases"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    // The flattened approval history.
    let history = app.get("/demo/approval-events").await;
    let history = history.assert_ok();
    assert_eq!(history["total"], 1);
    assert_eq!(history["events"][0]["workspace_id"], id);
    assert_eq!(history["events"][0]["workspace_name"], "showcase-1");
    // Every soft reference is alive.
    let health = app.get(&format!("/demo/workspaces/{id}/health")).await;
    let health = health.assert_ok();
    assert_eq!(health["dead"], 0, "{health}");
    assert_eq!(health["partial_run"], false);
}

async fn showcase_auto_approves_without_a_decision(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = agent_app(backend, &server, "0.5").await;
    server.push(gated_turn());
    let response = app
        .post(
            "/demo/run",
            &json!({"scenario": "showcase_rich", "skip_seed": false}),
        )
        .await;
    let body = response.assert_ok();
    assert_eq!(body["overall_status"], "pass", "{body}");
    let steps = body["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 25, "24 steps and the intermediate HITL event");
    let waiting = &steps[21];
    assert_eq!(waiting["status"], "running");
    let hitl = &steps[22];
    assert_eq!(hitl["step_name"], "agent_hitl_flow");
    assert_eq!(hitl["data"]["auto_approved"], true);
    // The gated call was executed (it failed on its made-up run id, which
    // the agents slice reports as `rejected` with the error).
    assert!(hitl["detail"]
        .as_str()
        .unwrap()
        .starts_with("auto-approved"));
    let ops = &steps[23];
    assert_eq!(ops["step_name"], "ops_snapshot");
    assert_eq!(ops["status"], "pass");
    assert!(ops["data"]["total_runs"].as_i64().unwrap() >= 10);
}

async fn hitl_relay_without_a_pending_action(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.post(
        "/demo/hitl-decision",
        &json!({"action_id": "abc", "decision": "approved"}),
    )
    .await
    .assert_problem_mentions(404, "NOT_FOUND", "No pending HITL action: abc");
    for (body, field) in [
        (
            json!({"action_id": "", "decision": "approved"}),
            "action_id",
        ),
        (json!({"action_id": "a", "decision": "maybe"}), "decision"),
        (
            json!({"action_id": "a", "decision": "approved", "extra": 1}),
            "extra",
        ),
        (
            json!({"action_id": "a", "decision": "approved", "reason": "x".repeat(501)}),
            "reason",
        ),
        (json!({"decision": "approved"}), "action_id"),
    ] {
        app.post("/demo/hitl-decision", &body)
            .await
            .assert_invalid(field);
    }
}
