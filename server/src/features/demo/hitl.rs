//! The showcase's human-in-the-loop step (`agent_hitl_flow`, §7.8): the
//! agent asks for a gated action, the run announces it with an
//! intermediate `step_complete` (`running`) and waits up to
//! `DEMO_HITL_WINDOW_SECONDS` for `POST /demo/hitl-decision`; without a
//! decision the action is approved automatically. A rejection keeps the
//! run green.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    run::{Outcome, Run, StepResult},
    runtime::RelayedDecision,
    schemas::{EventType, HitlDecision, StepStatus},
    steps::{agent_chat, agent_provider},
};

/// What the agent is asked to do.
pub const HITL_PROMPT: &str = "Save a scenario plan named showcase-agent-savedplan with a 10% \
     price cut over the next 14 days for the model behind the demo-production alias.";

/// Upper bound of the whole step.
const HARD_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs the step within its hard timeout; the relay slot is always
/// cleared afterwards.
pub async fn agent_hitl_flow(run: &mut Run) -> StepResult {
    let runtime = run.runtime.clone();
    let outcome = tokio::time::timeout(HARD_TIMEOUT, flow(run)).await;
    runtime.clear();
    match outcome {
        Ok(result) => result,
        Err(_) => Ok(Outcome::new(
            StepStatus::Skip,
            format!("no outcome within {} s", HARD_TIMEOUT.as_secs()),
            json!({"approval_decision": "timed_out"}),
        )),
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

async fn flow(run: &mut Run) -> StepResult {
    if let Err(detail) = agent_provider(run) {
        return Ok(Outcome::skip(detail));
    }
    let reply = match agent_chat(run, HITL_PROMPT).await {
        Ok(reply) => reply,
        Err(detail) => return Ok(Outcome::skip(detail)),
    };
    let action = &reply["pending_action"];
    let Some(action_id) = action["action_id"]
        .as_str()
        .filter(|_| reply["pending_approval"] == true)
    else {
        return Ok(Outcome::skip(
            "the agent did not request a gated action (save_scenario)",
        ));
    };
    let action_id = action_id.to_owned();
    let session_id = run.agent_session_id.clone().unwrap_or_default();
    let tokens = reply["tokens_used"].as_i64().unwrap_or(0);
    let calls = reply["tool_calls"].as_array().map_or(0, Vec::len);
    let window = run.state.settings.demo_hitl_window_seconds;
    let receiver = run.runtime.register(&action_id);
    let announce = json!({
        "awaiting_approval": true,
        "approval_url": format!("/agents/sessions/{session_id}/approve"),
        "decision_url": "/demo/hitl-decision", "decision_window_s": window,
        "action_id": action_id, "session_id": session_id,
        "tokens_used": tokens, "tool_calls_count": calls,
    });
    let Value::Object(announce) = announce else {
        return Ok(Outcome::fail("announcement is not an object"));
    };
    run.emit(
        EventType::StepComplete,
        Some(StepStatus::Running),
        Some(("awaiting approval", 0.0, announce)),
    );
    let wait = Duration::try_from_secs_f64(window).unwrap_or(Duration::from_secs(10));
    let decided = tokio::time::timeout(wait, receiver)
        .await
        .ok()
        .and_then(Result::ok);
    let auto = decided.is_none();
    let decision = decided.unwrap_or(RelayedDecision {
        decision: HitlDecision::Approved,
        reason: None,
    });
    let approved = decision.decision == HitlDecision::Approved;
    let body = json!({"action_id": action_id, "approved": approved, "reason": decision.reason,
                      "approved_by": "demo-pipeline"});
    let answer = run
        .client
        .send(
            axum::http::Method::POST,
            &format!("/agents/sessions/{session_id}/approve"),
            Some(&body),
        )
        .await;
    let execution_status = match &answer {
        Ok((status, result)) if (200..300).contains(status) => {
            result["status"].as_str().unwrap_or("executed").to_owned()
        }
        // Someone decided directly on the session: absorbed as approved.
        Ok((status, _)) if (400..500).contains(status) => "external_4xx".to_owned(),
        Ok((status, _)) => {
            return Ok(Outcome::skip(format!("approval failed: HTTP {status}")));
        }
        Err(error) => return Ok(Outcome::skip(format!("approval failed: {error}"))),
    };
    let decision_name = if approved { "approved" } else { "rejected" };
    run.approval_events.push(json!({
        "action_id": action_id, "tool_name": action["action_type"],
        "decision": decision_name, "decided_at": Utc::now(), "session_id": session_id,
        "auto_approved": auto, "reason": decision.reason,
        "execution_status": execution_status,
        "tool_call_summary": {
            "description": action["description"],
            "arguments_keys": action["arguments"].as_object()
                .map(|args| args.keys().cloned().collect::<Vec<_>>()).unwrap_or_default(),
        },
        "transcript_summary": truncate(reply["message"].as_str().unwrap_or_default(), 200),
        "tokens_used": tokens, "tool_calls_count": calls,
    }));
    let data = json!({"action_id": action_id, "session_id": session_id,
                      "auto_approved": auto, "tokens_used": tokens, "tool_calls_count": calls,
                      "execution_status": execution_status,
                      "approval_decision": if approved { execution_status.as_str() } else { "rejected" }});
    let detail = match (approved, auto) {
        (false, _) => "rejected by operator".to_owned(),
        (true, true) => format!("auto-approved after {window} s: {execution_status}"),
        (true, false) => format!("approved by operator: {execution_status}"),
    };
    Ok(Outcome::new(StepStatus::Pass, detail, data))
}
