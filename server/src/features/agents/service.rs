//! Session lifecycle (operations-ai spec §5.2–§5.4): create, read, chat
//! (expiry, the awaiting-approval short-circuit, the agent run, sliding
//! expiry and counters), the approval gate, close, and the tool-call audit.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{Duration as ChronoDuration, Utc};
use forecastlab_core::ai::{failure_summary, ChatMessage, ModelFailure};
use serde_json::{json, Value};

use super::{
    chain::TurnError,
    cost,
    repo::{self, Decision, SavedRun, SessionRow},
    runner::{self, Run},
    schemas::{
        AgentType, ApprovalRequest, ApprovalResponse, ApprovalStatus, ChatRequest, ChatResponse,
        PendingAction, SessionCreate, SessionResponse, SessionStatus, ToolCallListResponse,
    },
    stream::EventSink,
    tools,
};
use crate::{problem::Problem, state::AppState};

/// The answer when the model produced an invalid tool call (spec §5.3
/// step 6).
pub const MISBEHAVIOUR_MESSAGE: &str = "I couldn't complete that request — the model produced an \
     invalid tool call. Please try rephrasing, or give me a specific forecasting objective to \
     work on.";

/// The answer while a decision is pending (spec §5.3 step 2).
pub const AWAITING_APPROVAL_MESSAGE: &str = "Session is awaiting approval for a pending action. \
     Please approve or reject before continuing.";

fn not_found(session_id: &str) -> Problem {
    Problem::not_found(format!("Session not found: {session_id}"))
}

fn changed(session_id: &str) -> Problem {
    Problem::conflict(format!(
        "Session {session_id} changed while this request was running (a concurrent message, \
         decision or delete); nothing was saved. Retry."
    ))
}

/// The 502 of spec §5.6: every model of the chain failed.
pub fn fallback_exhausted(failures: &[ModelFailure]) -> Problem {
    Problem::new(
        StatusCode::BAD_GATEWAY,
        "AGENT_FALLBACK_EXHAUSTED",
        failure_summary(failures),
    )
    .with_extension(
        "failures",
        serde_json::to_value(failures).unwrap_or(Value::Array(Vec::new())),
    )
}

/// The 504 when a run outlives `AGENT_TIMEOUT_SECONDS`.
pub fn timed_out(seconds: u64) -> Problem {
    Problem::new(
        StatusCode::GATEWAY_TIMEOUT,
        "AGENT_TIMEOUT",
        format!("Agent response timed out after {seconds} seconds"),
    )
}

async fn load(state: &AppState, session_id: &str) -> Result<SessionRow, Problem> {
    repo::find_session(&state.db, session_id)
        .await?
        .ok_or_else(|| not_found(session_id))
}

/// Creates a session; 400 when its agent cannot be built.
pub async fn create_session(
    state: &AppState,
    request: SessionCreate,
) -> Result<SessionResponse, Problem> {
    state.ai.agent_chain()?;
    let session_id = uuid::Uuid::new_v4().simple().to_string();
    let now = Utc::now();
    let expires_at = now + ChronoDuration::minutes(state.settings.agents.session_ttl_minutes);
    repo::insert_session(&state.db, &session_id, request.agent_type, now, expires_at).await?;
    get_session(state, &session_id, false).await
}

/// One session, with its conversation when `with_history`.
pub async fn get_session(
    state: &AppState,
    session_id: &str,
    with_history: bool,
) -> Result<SessionResponse, Problem> {
    Ok(load(state, session_id).await?.into_response(with_history))
}

/// Closes a session (any status); 404 when it does not exist.
pub async fn close_session(state: &AppState, session_id: &str) -> Result<(), Problem> {
    if repo::close_session(&state.db, session_id).await? {
        Ok(())
    } else {
        Err(not_found(session_id))
    }
}

/// Every audited tool call of a session.
pub async fn tool_calls(
    state: &AppState,
    session_id: &str,
) -> Result<ToolCallListResponse, Problem> {
    load(state, session_id).await?;
    Ok(ToolCallListResponse {
        session_id: session_id.to_owned(),
        tool_calls: repo::list_tool_calls(&state.db, session_id).await?,
    })
}

/// The session if it takes messages: 410 when closed or expired (marking it
/// expired on first use past `expires_at`).
async fn usable(state: &AppState, session_id: &str) -> Result<SessionRow, Problem> {
    let row = load(state, session_id).await?;
    match row.status() {
        SessionStatus::Closed => Err(Problem::new(
            StatusCode::GONE,
            "SESSION_CLOSED",
            format!("Session closed: {session_id}"),
        )),
        status if status == SessionStatus::Expired || row.expires_at < Utc::now() => {
            if status != SessionStatus::Expired {
                repo::set_status(&state.db, session_id, SessionStatus::Expired).await?;
            }
            Err(Problem::new(
                StatusCode::GONE,
                "SESSION_EXPIRED",
                format!("Session expired: {session_id}"),
            ))
        }
        _ => Ok(row),
    }
}

fn read_history(row: &SessionRow) -> Vec<ChatMessage> {
    match serde_json::from_value::<Vec<ChatMessage>>(row.message_history.0.clone()) {
        Ok(history) => history,
        Err(error) => {
            tracing::warn!(session_id = %row.session_id, %error, "unreadable history; starting afresh");
            Vec::new()
        }
    }
}

/// An answered message, and whether it is the misbehaviour answer of spec
/// §5.3 step 6 (the WebSocket reports that as an error event).
#[derive(Debug)]
pub(crate) struct Answered {
    pub(crate) response: ChatResponse,
    pub(crate) misbehaved: bool,
}

impl From<ChatResponse> for Answered {
    fn from(response: ChatResponse) -> Answered {
        Answered {
            response,
            misbehaved: false,
        }
    }
}

/// Answers a message (spec §5.3).
pub async fn chat(
    state: &AppState,
    session_id: &str,
    request: ChatRequest,
) -> Result<ChatResponse, Problem> {
    Ok(answer(state, session_id, request, &EventSink::default())
        .await?
        .response)
}

/// Answers a message, reporting text deltas and tool calls to `events`
/// while the run works (the model turns are streamed when someone
/// listens).
pub(crate) async fn answer(
    state: &AppState,
    session_id: &str,
    request: ChatRequest,
    events: &EventSink,
) -> Result<Answered, Problem> {
    let row = usable(state, session_id).await?;
    if row.status() == SessionStatus::AwaitingApproval {
        return Ok(Answered::from(ChatResponse {
            session_id: session_id.to_owned(),
            message: AWAITING_APPROVAL_MESSAGE.to_owned(),
            tool_calls: Vec::new(),
            pending_approval: true,
            pending_action: row.pending(),
            tokens_used: 0,
            model: None,
            citations: None,
            no_evidence: None,
        }));
    }
    let chain = state.ai.agent_chain()?;
    let models = chain.config();
    let settings = &state.settings.agents;
    let agent = row.agent_type();
    let run = Run {
        state,
        agent,
        session_id,
        chain: &chain,
        settings,
        models,
        events,
    };
    let limit = Duration::from_secs(settings.timeout_seconds);
    // The price table is read while the model works, not after it.
    let (finished, prices) = tokio::join!(
        tokio::time::timeout(limit, run.run(read_history(&row), &request.message)),
        repo::prices(&state.db)
    );
    let outcome = match finished {
        Err(_) => return Err(timed_out(settings.timeout_seconds)),
        Ok(Err(TurnError::Exhausted(failures))) => return Err(fallback_exhausted(&failures)),
        Ok(Err(TurnError::Misbehaved(error))) => {
            tracing::warn!(session_id, %error, "model misbehaved");
            if !repo::touch(&state.db, session_id, row.revision).await? {
                return Err(changed(session_id));
            }
            return Ok(Answered {
                response: ChatResponse {
                    session_id: session_id.to_owned(),
                    message: MISBEHAVIOUR_MESSAGE.to_owned(),
                    tool_calls: Vec::new(),
                    pending_approval: false,
                    pending_action: None,
                    tokens_used: 0,
                    model: None,
                    citations: None,
                    no_evidence: None,
                },
                misbehaved: true,
            });
        }
        Ok(Ok(outcome)) => outcome,
    };
    let prices = prices?;
    let (usage_by_model, cost_usd) =
        cost::accumulate(&row.usage_by_model.0, &outcome.usage, &prices);
    let input: i64 = outcome
        .usage
        .iter()
        .map(|(_, usage)| i64::from(usage.input_tokens))
        .sum();
    let output: i64 = outcome
        .usage
        .iter()
        .map(|(_, usage)| i64::from(usage.output_tokens))
        .sum();
    let history = serde_json::to_value(&outcome.history).map_err(Problem::internal)?;
    let pending = outcome
        .pending
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(Problem::internal)?;
    let now = Utc::now();
    let audits: Vec<_> = outcome
        .calls
        .iter()
        .map(|call| call.audit.clone())
        .collect();
    let saved = repo::save_run(
        &state.db,
        &SavedRun {
            session_id,
            revision: row.revision,
            status: if outcome.pending.is_some() {
                SessionStatus::AwaitingApproval
            } else {
                SessionStatus::Active
            },
            history: &history,
            pending_action: pending.as_ref(),
            add_input_tokens: input,
            add_output_tokens: output,
            cost_usd,
            usage_by_model: &usage_by_model,
            add_tool_calls: outcome.counted_calls,
            now,
            expires_at: now + ChronoDuration::minutes(settings.session_ttl_minutes),
            tool_calls: &audits,
        },
    )
    .await?;
    if !saved {
        return Err(changed(session_id));
    }
    let (citations, no_evidence) = match agent {
        AgentType::RagAssistant => {
            let citations = tools::citations(&outcome.retrievals);
            let empty = citations.is_empty();
            (Some(citations), Some(empty))
        }
        AgentType::Experiment => (None, None),
    };
    Ok(Answered::from(ChatResponse {
        session_id: session_id.to_owned(),
        message: outcome.answer,
        tool_calls: outcome.calls.into_iter().map(|call| call.info).collect(),
        pending_approval: outcome.pending.is_some(),
        pending_action: outcome.pending,
        tokens_used: input + output,
        model: outcome.model,
        citations,
        no_evidence,
    }))
}

/// Decides the pending action (spec §5.4, with expiry enforced).
pub async fn approve(
    state: &AppState,
    session_id: &str,
    request: ApprovalRequest,
) -> Result<ApprovalResponse, Problem> {
    let row = load(state, session_id).await?;
    let pending = match (row.status(), row.pending()) {
        (SessionStatus::AwaitingApproval, Some(pending)) => pending,
        _ => {
            return Err(Problem::bad_request(format!(
                "No pending action for session: {session_id}"
            )))
        }
    };
    if pending.action_id != request.action_id {
        return Err(Problem::bad_request(format!(
            "Action not found: {}",
            request.action_id
        )));
    }
    if !repo::claim_pending(&state.db, session_id, row.revision).await? {
        return Err(Problem::bad_request(format!(
            "No pending action for session: {session_id}"
        )));
    }
    let approved_by = request.approved_by.as_deref().unwrap_or("api");
    let started = Instant::now();
    let (status, result) = if pending.expires_at < Utc::now() {
        (ApprovalStatus::Expired, None)
    } else if !request.approved {
        (ApprovalStatus::Rejected, None)
    } else {
        match tools::execute(
            state,
            row.agent_type(),
            session_id,
            &pending.action_type,
            &pending.arguments,
            Some(tools::Approval {
                by: approved_by,
                at: Utc::now(),
            }),
        )
        .await
        {
            Ok(value) => (ApprovalStatus::Executed, Some(value)),
            Err(failure) => (
                ApprovalStatus::Rejected,
                Some(json!({"error": failure.message(), "error_type": failure.error_type()})),
            ),
        }
    };
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        session_id,
        action_id = %pending.action_id,
        action_type = %pending.action_type,
        approved = request.approved,
        reason = request.reason.as_deref().unwrap_or(""),
        status = ?status,
        "agent action decided"
    );
    let status_name = match status {
        ApprovalStatus::Executed => "executed",
        ApprovalStatus::Rejected => "rejected",
        ApprovalStatus::Expired => "expired",
    };
    repo::record_decision(
        &state.db,
        &Decision {
            session_id,
            action_id: &pending.action_id,
            status: status_name,
            result_summary: result.as_ref().map(runner::summary),
            duration_ms,
            approved_by,
            note: decision_note(&pending, status, result.as_ref(), request.reason.as_deref()),
        },
    )
    .await?;
    Ok(ApprovalResponse {
        action_id: pending.action_id,
        approved: request.approved,
        result,
        status,
    })
}

/// The note the model reads in its next turn about a decision.
fn decision_note(
    pending: &PendingAction,
    status: ApprovalStatus,
    result: Option<&Value>,
    reason: Option<&str>,
) -> Value {
    let what = match (status, result) {
        (ApprovalStatus::Executed, Some(result)) => {
            format!(
                "was approved and executed. Result: {}",
                runner::summary(result)
            )
        }
        (ApprovalStatus::Rejected, Some(result)) => {
            format!("was approved but failed: {}", runner::summary(result))
        }
        (ApprovalStatus::Rejected, None) => "was rejected by the user; it did not run.".to_owned(),
        _ => "expired before a decision; it did not run.".to_owned(),
    };
    let reason = reason
        .filter(|reason| !reason.trim().is_empty())
        .map(|reason| format!(" Reason given: {reason}"))
        .unwrap_or_default();
    let note = ChatMessage::user(format!(
        "[Approval decision] Action {} ({}: {}) {what}{reason}",
        pending.action_id, pending.action_type, pending.description
    ));
    serde_json::to_value(note).unwrap_or(Value::Null)
}
