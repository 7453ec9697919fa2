//! Sessions, chat with tools that call the registry and the backtester,
//! the human approval gate (approve, reject, expiry), session expiry, the
//! tool-call limit, model misbehaviour, the fallback chain and its 502 with
//! scrubbed failures, token and cost accounting and the tool-call audit.

use forecastlab_llm_testing::{refused_base_url, ProviderServer, Turn, DEFAULT_USAGE};
use forecastlab_tests::{
    agents::{registered_run, scripted_app},
    both_backends, Backend, TestApp,
};
use serde_json::{json, Value};

use super::{chat, get_session, session};

both_backends!(
    sessions_are_created_read_and_closed,
    creating_a_session_without_a_key_names_the_setting,
    chat_calls_tools_and_accounts_tokens_and_cost,
    approved_actions_run_and_rejected_ones_never_do,
    approval_expires,
    sessions_expire,
    the_tool_call_limit_is_enforced,
    malformed_tool_calls_are_model_misbehaviour,
    fallback_takes_over_and_exhaustion_is_a_scrubbed_502,
    bad_input_is_rejected_and_changes_nothing,
);

async fn sessions_are_created_read_and_closed(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let created = app
        .post(
            "/agents/sessions",
            &json!({"agent_type": "experiment", "initial_context": {"store_id": 1}}),
        )
        .await;
    let body = created.assert_status(201);
    let id = body["session_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(body["agent_type"], "experiment");
    assert_eq!(body["status"], "active");
    assert_eq!(body["total_tokens_used"], 0);
    assert_eq!(body["tool_calls_count"], 0);
    assert_eq!(body["cost_usd"], 0.0);
    assert!(body["pending_action"].is_null());
    assert!(body.get("message_history").is_none());
    let created_at =
        chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created_at).num_minutes(), 120);

    let read = get_session(&app, id).await;
    assert_eq!(read["message_history"], json!([]));
    assert_eq!(read["session_id"], id);
    let rag = session(&app, "rag_assistant").await;
    assert_eq!(get_session(&app, &rag).await["agent_type"], "rag_assistant");

    app.delete(&format!("/agents/sessions/{id}"))
        .await
        .assert_status(204);
    assert_eq!(get_session(&app, id).await["status"], "closed");
    chat(&app, id, "hello")
        .await
        .assert_problem_mentions(410, "SESSION_CLOSED", id);
    // Closing twice is fine; unknown sessions are 404 everywhere.
    app.delete(&format!("/agents/sessions/{id}"))
        .await
        .assert_status(204);
    let missing = "0123456789abcdef0123456789abcdef";
    for response in [
        app.get(&format!("/agents/sessions/{missing}")).await,
        app.delete(&format!("/agents/sessions/{missing}")).await,
        chat(&app, missing, "hi").await,
        app.get(&format!("/agents/sessions/{missing}/tool-calls"))
            .await,
        app.post(
            &format!("/agents/sessions/{missing}/approve"),
            &json!({"action_id": "abc", "approved": true}),
        )
        .await,
    ] {
        response.assert_problem_mentions(
            404,
            "NOT_FOUND",
            &format!("Session not found: {missing}"),
        );
    }
    assert_eq!(server.requests().len(), 0, "no model call so far");
}

async fn creating_a_session_without_a_key_names_the_setting(backend: Backend) {
    // Defaults: anthropic primary, no key anywhere, no Ollama running.
    let app = TestApp::spawn(backend).await;
    let response = app
        .post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await;
    response.assert_problem_mentions(400, "BAD_REQUEST", "ANTHROPIC_API_KEY is not set");
    assert_eq!(app.rows("agent_session").await, 0);
    // The server is otherwise fine.
    app.get("/health").await.assert_status(200);
}

async fn chat_calls_tools_and_accounts_tokens_and_cost(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let run_id = registered_run(&app, 7, true).await;
    let id = session(&app, "experiment").await;
    server
        .push(
            Turn::tool_call("list_runs", json!({"store_id": 7}))
                .and_tool_call("get_run", json!({"run_id": run_id})),
        )
        .push(Turn::tool_call(
            "compare_backtest_results",
            json!({
                "result_a": {"model_type": "naive", "aggregated_metrics": {"mae": 2.0}},
                "result_b": {"model_type": "seasonal_naive", "aggregated_metrics": {"mae": 1.0}},
            }),
        ))
        .push(Turn::text(format!("Run {run_id} is the only naive run.")).with_usage(1_000, 500));
    let response = chat(&app, &id, "Which runs exist for store 7?").await;
    let body = response.assert_status(200);
    assert_eq!(
        body["message"],
        format!("Run {run_id} is the only naive run.")
    );
    assert_eq!(body["model"], "openai:gpt-4o");
    assert_eq!(body["pending_approval"], false);
    let calls = body["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0]["tool_name"], "list_runs");
    assert_eq!(calls[0]["result"]["total"], 1);
    assert_eq!(calls[0]["result"]["runs"][0]["run_id"], run_id.as_str());
    assert_eq!(calls[1]["tool_name"], "get_run");
    assert_eq!(calls[1]["result"]["status"], "success");
    assert_eq!(
        calls[2]["result"]["metrics"]["mae"]["better_model"], "b",
        "{}",
        calls[2]
    );
    let default_tokens = i64::from(DEFAULT_USAGE.input_tokens + DEFAULT_USAGE.output_tokens);
    assert_eq!(body["tokens_used"], 2 * default_tokens + 1_500);

    // The model saw the tool results, in order, answering its call ids.
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let messages = requests[1].body["messages"].as_array().unwrap();
    let tool_messages: Vec<&Value> = messages.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(tool_messages.len(), 2);
    let first: Value = serde_json::from_str(tool_messages[0]["content"].as_str().unwrap()).unwrap();
    assert_eq!(first["runs"][0]["run_id"], run_id.as_str());
    assert_eq!(messages[0]["role"], "system");
    let tools: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"run_backtest") && tools.contains(&"create_alias"));

    // Counters: pure tools are not counted; cost from the price table.
    let stored = get_session(&app, &id).await;
    assert_eq!(stored["tool_calls_count"], 2);
    assert_eq!(stored["total_tokens_used"], 2 * default_tokens + 1_500);
    let input = 2 * i64::from(DEFAULT_USAGE.input_tokens) + 1_000;
    let output = 2 * i64::from(DEFAULT_USAGE.output_tokens) + 500;
    assert_eq!(stored["input_tokens"], input);
    assert_eq!(stored["output_tokens"], output);
    let expected_cost = (input as f64 * 2.5 + output as f64 * 10.0) / 1e6;
    let cost = stored["cost_usd"].as_f64().unwrap();
    assert!(
        (cost - expected_cost).abs() < 1e-9,
        "{cost} vs {expected_cost}"
    );
    assert_eq!(stored["usage_by_model"][0]["model"], "openai:gpt-4o");
    assert_eq!(stored["usage_by_model"][0]["input_tokens"], input);
    let history = stored["message_history"].as_array().unwrap();
    let roles: Vec<&str> = history
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "tool",
            "tool",
            "assistant",
            "tool",
            "assistant"
        ]
    );

    // Audit: every call with its status, summary and model.
    let audit = app.get(&format!("/agents/sessions/{id}/tool-calls")).await;
    let audit = audit.assert_status(200);
    let rows = audit["tool_calls"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row["status"] == "ok"));
    assert_eq!(rows[1]["arguments"]["run_id"], run_id.as_str());
    assert!(rows[1]["result_summary"]
        .as_str()
        .unwrap()
        .contains(&run_id));
    assert_eq!(rows[0]["model"], "openai:gpt-4o");

    // A second message carries the history; a failing tool is told to the
    // model, not to the client.
    server
        .push(
            Turn::tool_call("get_run", json!({"run_id": "missing"})).and_tool_call(
                "compare_runs",
                json!({"run_id_a": run_id, "run_id_b": "nope"}),
            ),
        )
        .push(Turn::text("That run does not exist."));
    let second = chat(&app, &id, "And run 'missing'?").await;
    let second = second.assert_status(200);
    assert!(second["tool_calls"][0]["result"].is_null());
    assert_eq!(second["tool_calls"][1]["result"]["error_type"], "NOT_FOUND");
    let sent = &server.requests()[3].body["messages"];
    assert!(
        sent.as_array().unwrap().len() > history.len(),
        "history resent"
    );
    assert_eq!(get_session(&app, &id).await["tool_calls_count"], 4);
}

async fn approved_actions_run_and_rejected_ones_never_do(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let run_id = registered_run(&app, 3, true).await;
    let id = session(&app, "experiment").await;
    server.push(
        Turn::tool_call(
            "create_alias",
            json!({"alias_name": "production", "run_id": run_id, "description": "best"}),
        )
        .and_tool_call("list_runs", json!({})),
    );
    let response = chat(&app, &id, "Promote the run").await;
    let body = response.assert_status(200).clone();
    assert_eq!(body["pending_approval"], true);
    let action = &body["pending_action"];
    assert_eq!(action["action_type"], "create_alias");
    assert_eq!(action["arguments"]["alias_name"], "production");
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    assert_eq!(action_id.len(), 16);
    assert!(body["message"].as_str().unwrap().contains(&action_id));
    // The marker went back as the call's result; the other call did not run.
    assert_eq!(
        body["tool_calls"][0]["result"]["status"],
        "approval_required"
    );
    assert_eq!(
        body["tool_calls"][1]["result"]["error_type"],
        "not_executed"
    );
    // Nothing changed yet.
    app.get("/registry/aliases/production")
        .await
        .assert_problem(404, "NOT_FOUND");
    let stored = get_session(&app, &id).await;
    assert_eq!(stored["status"], "awaiting_approval");
    assert_eq!(stored["pending_action"]["action_id"], action_id.as_str());
    assert_eq!(stored["tool_calls_count"], 0);

    // While waiting, chat answers without calling the model.
    let calls_before = server.requests().len();
    let waiting = chat(&app, &id, "Anything else?").await;
    let waiting = waiting.assert_status(200);
    assert_eq!(waiting["pending_approval"], true);
    assert_eq!(waiting["tokens_used"], 0);
    assert_eq!(waiting["pending_action"]["action_id"], action_id.as_str());
    assert_eq!(server.requests().len(), calls_before);

    let approve = |action: &str, approved: bool| json!({"action_id": action, "approved": approved, "reason": "looks right", "approved_by": "planner@example.com"});
    let path = format!("/agents/sessions/{id}/approve");
    app.post(&path, &approve("ffffffffffffffff", true))
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "Action not found: ffffffffffffffff");
    let decided = app.post(&path, &approve(&action_id, true)).await;
    let decided = decided.assert_status(200);
    assert_eq!(decided["status"], "executed");
    assert_eq!(decided["approved"], true);
    assert_eq!(decided["result"]["alias_name"], "production");
    let alias = app.get("/registry/aliases/production").await;
    assert_eq!(alias.assert_status(200)["run_id"], run_id.as_str());
    // Deciding twice is refused.
    app.post(&path, &approve(&action_id, true))
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "No pending action for session");
    let stored = get_session(&app, &id).await;
    assert_eq!(stored["status"], "active");
    assert!(stored["pending_action"].is_null());
    let last = stored["message_history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(last["content"]
        .as_str()
        .unwrap()
        .contains("approved and executed"));
    let audit = app.get(&format!("/agents/sessions/{id}/tool-calls")).await;
    let rows = audit.assert_status(200)["tool_calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows[0]["status"], "executed");
    assert_eq!(rows[0]["approved_by"], "planner@example.com");
    assert_eq!(rows[0]["action_id"], action_id.as_str());
    assert!(rows[0]["decided_at"].is_string());
    assert_eq!(rows[1]["status"], "not_executed");

    // A rejected archive never runs.
    server.push(Turn::tool_call("archive_run", json!({"run_id": run_id})));
    let held = chat(&app, &id, "Archive it").await;
    let held = held.assert_status(200).clone();
    let archive_id = held["pending_action"]["action_id"].as_str().unwrap();
    let rejected = app
        .post(&path, &json!({"action_id": archive_id, "approved": false}))
        .await;
    let rejected = rejected.assert_status(200);
    assert_eq!(rejected["status"], "rejected");
    assert!(rejected["result"].is_null());
    let stored_run = app.get(&format!("/registry/runs/{run_id}")).await;
    assert_eq!(stored_run.assert_status(200)["status"], "success");
    let rows = app.get(&format!("/agents/sessions/{id}/tool-calls")).await;
    let rows = rows.assert_status(200)["tool_calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.last().unwrap()["status"], "rejected");
    assert_eq!(rows.last().unwrap()["approved_by"], "api");

    // An approved action that fails reports rejected with the error.
    server.push(Turn::tool_call("archive_run", json!({"run_id": "0000"})));
    let held = chat(&app, &id, "Archive run 0000").await;
    let failing = held.assert_status(200)["pending_action"]["action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = app.post(&path, &approve(&failing, true)).await;
    let failed = failed.assert_status(200);
    assert_eq!(failed["status"], "rejected");
    assert_eq!(failed["result"]["error_type"], "NOT_FOUND");

    // Invalid arguments to a gated tool go back to the model; nothing is held.
    server
        .push(Turn::tool_call(
            "create_alias",
            json!({"alias_name": "Not Valid!", "run_id": run_id}),
        ))
        .push(Turn::text("The alias name is invalid."));
    let invalid = chat(&app, &id, "Alias it as 'Not Valid!'").await;
    let invalid = invalid.assert_status(200);
    assert_eq!(invalid["pending_approval"], false);
    assert_eq!(
        invalid["tool_calls"][0]["result"]["error_type"],
        "VALIDATION_ERROR"
    );
}

async fn approval_expires(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[("AGENT_APPROVAL_TIMEOUT_MINUTES", "0")]).await;
    let run_id = registered_run(&app, 4, true).await;
    let id = session(&app, "experiment").await;
    server.push(Turn::tool_call("archive_run", json!({"run_id": run_id})));
    let held = chat(&app, &id, "Archive it").await;
    let action_id = held.assert_status(200)["pending_action"]["action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let decided = app
        .post(
            &format!("/agents/sessions/{id}/approve"),
            &json!({"action_id": action_id, "approved": true}),
        )
        .await;
    let decided = decided.assert_status(200);
    assert_eq!(decided["status"], "expired");
    assert!(decided["result"].is_null());
    let stored_run = app.get(&format!("/registry/runs/{run_id}")).await;
    assert_eq!(stored_run.assert_status(200)["status"], "success");
    let stored = get_session(&app, &id).await;
    assert_eq!(stored["status"], "active");
    let rows = app.get(&format!("/agents/sessions/{id}/tool-calls")).await;
    assert_eq!(
        rows.assert_status(200)["tool_calls"][0]["status"],
        "expired"
    );
}

async fn sessions_expire(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[("AGENT_SESSION_TTL_MINUTES", "0")]).await;
    let id = session(&app, "experiment").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    chat(&app, &id, "hello").await.assert_problem_mentions(
        410,
        "SESSION_EXPIRED",
        &format!("Session expired: {id}"),
    );
    assert_eq!(get_session(&app, &id).await["status"], "expired");
    chat(&app, &id, "hello")
        .await
        .assert_problem(410, "SESSION_EXPIRED");
    assert!(server.requests().is_empty());
}

async fn the_tool_call_limit_is_enforced(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[("AGENT_MAX_TOOL_CALLS", "2")]).await;
    let id = session(&app, "experiment").await;
    server
        .push(
            Turn::tool_call("list_runs", json!({})).and_tool_call("list_runs", json!({"page": 2})),
        )
        .push(Turn::tool_call("list_runs", json!({"page": 3})))
        .push(Turn::text("never asked"));
    let response = chat(&app, &id, "Loop").await;
    let body = response.assert_status(200);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("AGENT_MAX_TOOL_CALLS"));
    assert_eq!(
        body["tool_calls"][2]["result"]["error_type"],
        "not_executed"
    );
    assert_eq!(server.pending(), 1, "the model was not asked again");
    assert_eq!(get_session(&app, &id).await["tool_calls_count"], 2);
}

async fn malformed_tool_calls_are_model_misbehaviour(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let id = session(&app, "experiment").await;
    server.push(Turn::malformed_tool_call("get_run", "{\"run_id\": "));
    let response = chat(&app, &id, "Show the run").await;
    let body = response.assert_status(200);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("invalid tool call"));
    assert_eq!(body["tokens_used"], 0);
    let stored = get_session(&app, &id).await;
    assert_eq!(stored["message_history"], json!([]), "history untouched");
    assert_eq!(stored["total_tokens_used"], 0);
}

async fn fallback_takes_over_and_exhaustion_is_a_scrubbed_502(backend: Backend) {
    let primary = ProviderServer::openai().await;
    let fallback = ProviderServer::anthropic().await;
    let openai_base = primary.base_url();
    let anthropic_base = fallback.base_url();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("AGENT_DEFAULT_MODEL", "openai:gpt-4o"),
            ("AGENT_FALLBACK_MODEL", "anthropic:claude-sonnet-4-5"),
            ("OPENAI_API_KEY", primary.api_key().unwrap()),
            ("OPENAI_BASE_URL", openai_base.as_str()),
            ("ANTHROPIC_API_KEY", fallback.api_key().unwrap()),
            ("ANTHROPIC_BASE_URL", anthropic_base.as_str()),
        ],
    )
    .await;
    let id = session(&app, "experiment").await;
    primary.push(Turn::error(503, "overloaded"));
    fallback.push(Turn::text("Answered by the fallback.").with_usage(10, 5));
    let response = chat(&app, &id, "hi").await;
    let body = response.assert_status(200);
    assert_eq!(body["message"], "Answered by the fallback.");
    assert_eq!(body["model"], "anthropic:claude-sonnet-4-5");
    let stored = get_session(&app, &id).await;
    assert_eq!(
        stored["usage_by_model"][0]["model"],
        "anthropic:claude-sonnet-4-5"
    );
    assert_eq!(stored["total_tokens_used"], 15);

    // Both fail, with keys of every shape in their error bodies.
    let secrets = [
        "sk-proj-LeakedKey0123456789abcdef",
        "sk-ant-api03-LeakedKey0123456789",
        "AIzaSyLeakedKey0123456789abcdef",
        "tok_3f9a8b7c6d5e4f3a2b1c",
        "eyJhbGciOiJIUzI1NiJ9.payload.sig",
    ];
    primary.push(Turn::error(
        429,
        format!(
            "Rate limit for key {} exceeded; api_key={} Authorization: Bearer {}",
            secrets[0], secrets[3], secrets[4]
        ),
    ));
    fallback.push(Turn::error(
        404,
        format!(
            "model not found (key {} / {} / token: {})",
            secrets[1], secrets[2], secrets[3]
        ),
    ));
    let before = get_session(&app, &id).await;
    let failed = chat(&app, &id, "again").await;
    let problem = failed.assert_problem(502, "AGENT_FALLBACK_EXHAUSTED");
    assert_eq!(problem["type"], "/errors/agent-fallback-exhausted");
    assert_eq!(problem["title"], "Agent Fallback Exhausted");
    assert_eq!(
        problem["detail"],
        "All configured agent models failed — openai:gpt-4o: quota or rate limit exhausted \
         (HTTP 429); anthropic:claude-sonnet-4-5: model not found / invalid model name (HTTP 404)"
    );
    let failures = problem["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0]["reason"], "quota_exhausted");
    assert_eq!(failures[0]["status_code"], 429);
    assert_eq!(failures[1]["reason"], "model_not_found");
    assert!(failures[0]["detail"]
        .as_str()
        .unwrap()
        .contains("[redacted]"));
    for secret in secrets
        .iter()
        .chain([primary.api_key().unwrap(), fallback.api_key().unwrap()].iter())
    {
        assert!(
            !failed.text.contains(secret),
            "{secret} leaked: {}",
            failed.text
        );
    }
    assert!(!failed.text.contains("sub-exceptions"));
    // The failed message changed nothing.
    let after = get_session(&app, &id).await;
    assert_eq!(after["message_history"], before["message_history"]);
    assert_eq!(after["total_tokens_used"], before["total_tokens_used"]);

    // A single model that cannot be reached is one classified leg.
    let refused = refused_base_url().await;
    let lonely = TestApp::spawn_with(
        backend,
        &[
            ("AGENT_DEFAULT_MODEL", "ollama:llama3.1"),
            ("AGENT_FALLBACK_MODEL", "none"),
            ("OLLAMA_BASE_URL", refused.as_str()),
        ],
    )
    .await;
    let id = session(&lonely, "experiment").await;
    let failed = chat(&lonely, &id, "hi").await;
    let problem = failed.assert_problem(502, "AGENT_FALLBACK_EXHAUSTED");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .starts_with("The configured agent model failed — ollama:llama3.1: provider error"));
    assert!(problem["failures"][0]["status_code"].is_null());
}

async fn bad_input_is_rejected_and_changes_nothing(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    app.post("/agents/sessions", &json!({"agent_type": "oracle"}))
        .await
        .assert_invalid("agent_type");
    app.post(
        "/agents/sessions",
        &json!({"agent_type": "experiment", "extra": 1}),
    )
    .await
    .assert_problem(422, "VALIDATION_ERROR");
    app.post("/agents/sessions", &json!({}))
        .await
        .assert_invalid("agent_type");
    assert_eq!(app.rows("agent_session").await, 0);
    let id = session(&app, "experiment").await;
    let too_long = "x".repeat(10_001);
    chat(&app, &id, &too_long).await.assert_invalid("message");
    chat(&app, &id, "").await.assert_invalid("message");
    chat(&app, &id, "   ").await.assert_invalid("message");
    chat(&app, &id, &"y".repeat(10_000))
        .await
        .assert_status(502);
    app.post(
        &format!("/agents/sessions/{id}/chat"),
        &json!({"message": "hi", "tools": []}),
    )
    .await
    .assert_problem(422, "VALIDATION_ERROR");
    let approve = format!("/agents/sessions/{id}/approve");
    app.post(&approve, &json!({"action_id": "abc", "approved": true}))
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "No pending action for session");
    app.post(&approve, &json!({"action_id": "abc", "approved": "yes"}))
        .await
        .assert_invalid("approved");
    app.post(&approve, &json!({"action_id": "", "approved": true}))
        .await
        .assert_invalid("action_id");
    app.post(
        &approve,
        &json!({"action_id": "abc", "approved": true, "reason": "r".repeat(501)}),
    )
    .await
    .assert_invalid("reason");
    let stored = get_session(&app, &id).await;
    assert_eq!(stored["message_history"], json!([]));
    assert_eq!(stored["status"], "active");
}
