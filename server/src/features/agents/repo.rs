//! SQL of the agents: `agent_session`, `agent_tool_call`,
//! `agent_model_price`. Every statement is written once for both dialects.
//!
//! A session row changes only through statements guarded by its
//! `revision` (or its status), so two requests racing on one session
//! never interleave half of each: the loser changes nothing and is told.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::schemas::{AgentType, PendingAction, SessionResponse, SessionStatus, ToolCallRecord};
use crate::{
    db::{BeginWrite, Db},
    with_db,
};

/// An `agent_session` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) session_id: String,
    pub(crate) agent_type: String,
    pub(crate) status: String,
    pub(crate) message_history: Json<Value>,
    pub(crate) pending_action: Option<Json<Value>>,
    pub(crate) total_tokens_used: i64,
    pub(crate) input_tokens: i64,
    pub(crate) output_tokens: i64,
    pub(crate) cost_usd: f64,
    pub(crate) usage_by_model: Json<Value>,
    pub(crate) tool_calls_count: i32,
    pub(crate) revision: i32,
    pub(crate) last_activity: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
}

impl SessionRow {
    /// The session's status (an unknown stored value reads as closed).
    pub(crate) fn status(&self) -> SessionStatus {
        SessionStatus::parse(&self.status).unwrap_or(SessionStatus::Closed)
    }

    /// The session's agent (an unknown stored value reads as experiment).
    pub(crate) fn agent_type(&self) -> AgentType {
        AgentType::parse(&self.agent_type).unwrap_or(AgentType::Experiment)
    }

    /// The stored pending action, when it parses.
    pub(crate) fn pending(&self) -> Option<PendingAction> {
        let raw = self.pending_action.as_ref()?;
        match serde_json::from_value(raw.0.clone()) {
            Ok(action) => Some(action),
            Err(error) => {
                tracing::warn!(session_id = %self.session_id, %error, "unreadable pending action");
                None
            }
        }
    }

    /// The response body; with the history when `with_history`.
    pub(crate) fn into_response(self, with_history: bool) -> SessionResponse {
        let pending_action = self.pending();
        let usage_by_model = super::cost::usage_list(&self.usage_by_model.0);
        SessionResponse {
            agent_type: self.agent_type(),
            status: self.status(),
            session_id: self.session_id,
            total_tokens_used: self.total_tokens_used,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cost_usd: self.cost_usd,
            usage_by_model,
            tool_calls_count: i64::from(self.tool_calls_count),
            pending_action,
            last_activity: self.last_activity,
            expires_at: self.expires_at,
            created_at: self.created_at,
            message_history: with_history.then(|| match self.message_history.0 {
                Value::Array(messages) => messages,
                _ => Vec::new(),
            }),
        }
    }
}

const SESSION_COLUMNS: &str = "session_id, agent_type, status, message_history, pending_action, \
     total_tokens_used, input_tokens, output_tokens, cost_usd, usage_by_model, tool_calls_count, \
     revision, last_activity, expires_at, created_at";

pub(crate) async fn insert_session(
    db: &Db,
    session_id: &str,
    agent_type: AgentType,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO agent_session (session_id, agent_type, status, message_history, \
             usage_by_model, last_activity, expires_at, created_at, updated_at) \
             VALUES ($1, $2, 'active', $3, $4, $5, $6, $5, $5)",
        )
        .bind(session_id)
        .bind(agent_type.as_str())
        .bind(Json(Value::Array(Vec::new())))
        .bind(Json(Value::Object(Default::default())))
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub(crate) async fn find_session(
    db: &Db,
    session_id: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM agent_session WHERE session_id = $1");
    with_db!(db, pool => {
        sqlx::query_as::<_, SessionRow>(&sql).bind(session_id).fetch_optional(pool).await
    })
}

/// Sets `status` (and bumps the revision) unless the session is closed.
pub(crate) async fn set_status(
    db: &Db,
    session_id: &str,
    status: SessionStatus,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE agent_session SET status = $2, revision = revision + 1, updated_at = $3 \
             WHERE session_id = $1 AND status <> 'closed'",
        )
        .bind(session_id)
        .bind(status.as_str())
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Closes the session whatever its status; false when it does not exist.
pub(crate) async fn close_session(db: &Db, session_id: &str) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE agent_session SET status = 'closed', pending_action = NULL, \
             revision = revision + 1, updated_at = $2 WHERE session_id = $1",
        )
        .bind(session_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Records activity without changing the conversation.
pub(crate) async fn touch(db: &Db, session_id: &str, revision: i32) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE agent_session SET last_activity = $3, updated_at = $3, revision = revision + 1 \
             WHERE session_id = $1 AND revision = $2",
        )
        .bind(session_id)
        .bind(revision)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected())
    })?;
    Ok(affected == 1)
}

/// A tool call to audit.
#[derive(Debug, Clone)]
pub(crate) struct NewToolCall {
    pub(crate) tool_call_id: String,
    pub(crate) tool_name: String,
    pub(crate) arguments: Value,
    pub(crate) status: &'static str,
    pub(crate) result_summary: Option<String>,
    pub(crate) duration_ms: f64,
    pub(crate) model: Option<String>,
    pub(crate) action_id: Option<String>,
}

/// Everything one answered message changes on its session.
#[derive(Debug)]
pub(crate) struct SavedRun<'a> {
    pub(crate) session_id: &'a str,
    /// The revision read before the run; the save fails if it moved.
    pub(crate) revision: i32,
    pub(crate) status: SessionStatus,
    pub(crate) history: &'a Value,
    pub(crate) pending_action: Option<&'a Value>,
    pub(crate) add_input_tokens: i64,
    pub(crate) add_output_tokens: i64,
    pub(crate) cost_usd: f64,
    pub(crate) usage_by_model: &'a Value,
    pub(crate) add_tool_calls: i64,
    pub(crate) now: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) tool_calls: &'a [NewToolCall],
}

/// Saves a run in one transaction: the session row (guarded by its
/// revision) and the audit rows. False, with nothing written, when the
/// session changed meanwhile. The commit does not wait for the disk
/// ([`BeginWrite::begin_write_unflushed`]): a database crash may lose the
/// last chat turns, as SQLite's WAL would; what a tool did in another slice
/// (and every approval) is committed by that slice, durably.
pub(crate) async fn save_run(db: &Db, run: &SavedRun<'_>) -> Result<bool, sqlx::Error> {
    with_db!(db, pool => {
        let mut tx = pool.begin_write_unflushed().await?;
        let affected = sqlx::query(
            "UPDATE agent_session SET status = $3, message_history = $4, pending_action = $5, \
             total_tokens_used = total_tokens_used + $6 + $7, input_tokens = input_tokens + $6, \
             output_tokens = output_tokens + $7, cost_usd = $8, usage_by_model = $9, \
             tool_calls_count = tool_calls_count + $10, last_activity = $11, expires_at = $12, \
             updated_at = $11, revision = revision + 1 \
             WHERE session_id = $1 AND revision = $2",
        )
        .bind(run.session_id)
        .bind(run.revision)
        .bind(run.status.as_str())
        .bind(Json(run.history))
        .bind(run.pending_action.map(Json))
        .bind(run.add_input_tokens)
        .bind(run.add_output_tokens)
        .bind(run.cost_usd)
        .bind(Json(run.usage_by_model))
        .bind(run.add_tool_calls)
        .bind(run.now)
        .bind(run.expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if affected != 1 {
            return Ok(false);
        }
        for call in run.tool_calls {
            sqlx::query(
                "INSERT INTO agent_tool_call (session_id, tool_call_id, tool_name, arguments, \
                 status, result_summary, duration_ms, model, action_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(run.session_id)
            .bind(&call.tool_call_id)
            .bind(&call.tool_name)
            .bind(Json(&call.arguments))
            .bind(call.status)
            .bind(call.result_summary.as_deref())
            .bind(call.duration_ms)
            .bind(call.model.as_deref())
            .bind(call.action_id.as_deref())
            .bind(run.now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

/// Takes the pending action off an `awaiting_approval` session (status back
/// to `active`). False when the session is not awaiting approval any more
/// (another decision won).
pub(crate) async fn claim_pending(
    db: &Db,
    session_id: &str,
    revision: i32,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE agent_session SET status = 'active', pending_action = NULL, \
             last_activity = $3, updated_at = $3, revision = revision + 1 \
             WHERE session_id = $1 AND revision = $2 AND status = 'awaiting_approval'",
        )
        .bind(session_id)
        .bind(revision)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected())
    })?;
    Ok(affected == 1)
}

/// The outcome of a decision on a gated call.
#[derive(Debug)]
pub(crate) struct Decision<'a> {
    pub(crate) session_id: &'a str,
    pub(crate) action_id: &'a str,
    pub(crate) status: &'static str,
    pub(crate) result_summary: Option<String>,
    pub(crate) duration_ms: f64,
    pub(crate) approved_by: &'a str,
    /// A note for the model, appended to the conversation.
    pub(crate) note: Value,
}

/// Records a decision: the audit row of the gated call, and the note
/// appended to the conversation, in one transaction.
pub(crate) async fn record_decision(db: &Db, decision: &Decision<'_>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "UPDATE agent_tool_call SET status = $3, result_summary = $4, duration_ms = $5, \
             approved_by = $6, decided_at = $7 WHERE session_id = $1 AND action_id = $2",
        )
        .bind(decision.session_id)
        .bind(decision.action_id)
        .bind(decision.status)
        .bind(decision.result_summary.as_deref())
        .bind(decision.duration_ms)
        .bind(decision.approved_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let history: Option<Json<Value>> = sqlx::query_scalar(
            "SELECT message_history FROM agent_session WHERE session_id = $1",
        )
        .bind(decision.session_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut messages = match history.map(|json| json.0) {
            Some(Value::Array(messages)) => messages,
            _ => Vec::new(),
        };
        messages.push(decision.note.clone());
        sqlx::query(
            "UPDATE agent_session SET message_history = $2, updated_at = $3, \
             revision = revision + 1 WHERE session_id = $1",
        )
        .bind(decision.session_id)
        .bind(Json(Value::Array(messages)))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
}

#[derive(Debug, sqlx::FromRow)]
struct ToolCallRow {
    tool_call_id: String,
    tool_name: String,
    arguments: Json<Value>,
    status: String,
    result_summary: Option<String>,
    duration_ms: f64,
    model: Option<String>,
    action_id: Option<String>,
    approved_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

pub(crate) async fn list_tool_calls(
    db: &Db,
    session_id: &str,
) -> Result<Vec<ToolCallRecord>, sqlx::Error> {
    let rows = with_db!(db, pool => {
        sqlx::query_as::<_, ToolCallRow>(
            "SELECT tool_call_id, tool_name, arguments, status, result_summary, duration_ms, \
             model, action_id, approved_by, decided_at, created_at \
             FROM agent_tool_call WHERE session_id = $1 ORDER BY id ASC",
        )
        .bind(session_id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|row| ToolCallRecord {
            tool_call_id: row.tool_call_id,
            tool_name: row.tool_name,
            arguments: row.arguments.0,
            status: row.status,
            result_summary: row.result_summary,
            duration_ms: row.duration_ms,
            model: row.model,
            action_id: row.action_id,
            approved_by: row.approved_by,
            decided_at: row.decided_at,
            created_at: row.created_at,
        })
        .collect())
}

/// Every row of the price table: model → (input, output) USD per million
/// tokens.
pub(crate) async fn prices(db: &Db) -> Result<HashMap<String, (f64, f64)>, sqlx::Error> {
    let rows: Vec<(String, f64, f64)> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT model, input_usd_per_million, output_usd_per_million FROM agent_model_price",
        )
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(model, input, output)| (model, (input, output)))
        .collect())
}

/// A scenario plan saved by an agent's `save_scenario` call.
#[derive(Debug)]
pub(crate) struct AgentPlan<'a> {
    pub(crate) scenario_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) store_id: i64,
    pub(crate) product_id: i64,
    pub(crate) run_id: &'a str,
    pub(crate) horizon: i64,
    pub(crate) assumptions: &'a Value,
    pub(crate) comparison: &'a Value,
    pub(crate) method: &'a str,
    pub(crate) tags: &'a [String],
    /// The session whose agent asked for it.
    pub(crate) session_id: &'a str,
    /// Who approved it (`None` when saving was not gated).
    pub(crate) approved_by: Option<&'a str>,
    /// When it was approved.
    pub(crate) approved_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
}

/// Inserts a `scenario_plan` row with `source = 'agent'`, the session and,
/// when approved, the approval columns — in one statement.
pub(crate) async fn insert_agent_plan(db: &Db, plan: &AgentPlan<'_>) -> Result<(), sqlx::Error> {
    let decision = plan.approved_by.map(|_| "approved");
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO scenario_plan (scenario_id, name, store_id, product_id, run_id, horizon, \
             assumptions, comparison, method, tags, source, agent_session_id, approved_by, \
             approved_at, approval_decision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'agent', $11, $12, $13, $14, $15, $15)",
        )
        .bind(plan.scenario_id)
        .bind(plan.name)
        .bind(plan.store_id)
        .bind(plan.product_id)
        .bind(plan.run_id)
        .bind(plan.horizon)
        .bind(Json(plan.assumptions))
        .bind(Json(plan.comparison))
        .bind(plan.method)
        .bind(Json(plan.tags))
        .bind(plan.session_id)
        .bind(plan.approved_by)
        .bind(plan.approved_at)
        .bind(decision)
        .bind(plan.created_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}
