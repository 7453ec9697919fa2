//! /agents over HTTP, against local servers speaking the providers' real
//! wire protocols, on SQLite and PostgreSQL: sessions, chat, approvals and
//! the failure modes in [`sessions`]; the scenario tools in
//! [`scenario_tools`]. The helpers below serve both.

mod scenario_tools;
mod sessions;

use forecastlab_tests::{TestApp, TestResponse};
use serde_json::{json, Value};

async fn session(app: &TestApp, agent_type: &str) -> String {
    let created = app
        .post("/agents/sessions", &json!({"agent_type": agent_type}))
        .await;
    created.assert_status(201)["session_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn chat(app: &TestApp, session_id: &str, message: &str) -> TestResponse {
    app.post(
        &format!("/agents/sessions/{session_id}/chat"),
        &json!({"message": message}),
    )
    .await
}

async fn get_session(app: &TestApp, session_id: &str) -> Value {
    app.get(&format!("/agents/sessions/{session_id}"))
        .await
        .assert_status(200)
        .clone()
}
