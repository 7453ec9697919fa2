//! Request and response types of `/agents`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::extract::{Validate, Violations};

/// Longest chat message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// Which agent a session talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentType {
    /// Explores model runs and backtests; gated tools change the registry.
    Experiment,
    /// Answers from the indexed documentation, with citations.
    RagAssistant,
}

impl AgentType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentType::Experiment => "experiment",
            AgentType::RagAssistant => "rag_assistant",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<AgentType> {
        match value {
            "experiment" => Some(AgentType::Experiment),
            "rag_assistant" => Some(AgentType::RagAssistant),
            _ => None,
        }
    }
}

/// Lifecycle of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Takes messages.
    Active,
    /// A gated action waits for a human decision.
    AwaitingApproval,
    /// Not used for longer than `AGENT_SESSION_TTL_MINUTES`.
    Expired,
    /// Deleted by a client.
    Closed,
}

impl SessionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::AwaitingApproval => "awaiting_approval",
            SessionStatus::Expired => "expired",
            SessionStatus::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<SessionStatus> {
        match value {
            "active" => Some(SessionStatus::Active),
            "awaiting_approval" => Some(SessionStatus::AwaitingApproval),
            "expired" => Some(SessionStatus::Expired),
            "closed" => Some(SessionStatus::Closed),
            _ => None,
        }
    }
}

/// Body of `POST /agents/sessions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionCreate {
    /// `experiment` or `rag_assistant`.
    pub agent_type: AgentType,
    /// Accepted for compatibility; not used.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub initial_context: Option<Map<String, Value>>,
}

impl Validate for SessionCreate {}

/// An action a gated tool asked for, waiting for a human decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingAction {
    /// 16 hex characters.
    pub action_id: String,
    /// The gated tool (`create_alias`, `archive_run`, `save_scenario`).
    pub action_type: String,
    /// What the action will do.
    pub description: String,
    /// The tool's arguments, executed as they are on approval.
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// When the model asked for it.
    pub created_at: DateTime<Utc>,
    /// After this the action can no longer be approved
    /// (`AGENT_APPROVAL_TIMEOUT_MINUTES`).
    pub expires_at: DateTime<Utc>,
}

/// Tokens and cost of one model in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelUsage {
    /// `provider:model`.
    pub model: String,
    /// Prompt tokens.
    pub input_tokens: i64,
    /// Generated tokens.
    pub output_tokens: i64,
    /// USD from the `agent_model_price` table; `null` when the model has
    /// no price there.
    pub cost_usd: Option<f64>,
}

/// A session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionResponse {
    /// 32 hex characters.
    pub session_id: String,
    /// The agent.
    pub agent_type: AgentType,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// Input plus output tokens of every model turn so far.
    pub total_tokens_used: i64,
    /// Prompt tokens so far.
    pub input_tokens: i64,
    /// Generated tokens so far.
    pub output_tokens: i64,
    /// USD so far, over the models that have a price.
    pub cost_usd: f64,
    /// Tokens and cost per model, by model name.
    pub usage_by_model: Vec<ModelUsage>,
    /// Tool calls executed so far (pure tools not counted).
    pub tool_calls_count: i64,
    /// The action waiting for approval, if any.
    pub pending_action: Option<PendingAction>,
    /// Last chat or decision.
    pub last_activity: DateTime<Utc>,
    /// The session expires after this unless used (sliding).
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The conversation (`GET` only): `{role, content, tool_calls?,
    /// tool_call_id?}` messages, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub message_history: Option<Vec<Value>>,
}

/// Body of `POST /agents/sessions/{id}/chat`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// The user's message (1–10 000 characters).
    #[schema(min_length = 1, max_length = 10000)]
    pub message: String,
    /// Accepted for compatibility; the REST answer is never streamed (use
    /// the WebSocket `/agents/stream`).
    #[serde(default)]
    pub stream: bool,
}

impl Validate for ChatRequest {
    fn validate(&self, v: &mut Violations) {
        v.length("message", &self.message, 1, MAX_MESSAGE_CHARS);
        if !self.message.is_empty() && self.message.trim().is_empty() {
            v.push("message", "The message must not be blank", "string_blank");
        }
    }
}

/// One tool call made while answering.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolCallInfo {
    /// Tool name.
    pub tool_name: String,
    /// The model's call id.
    pub tool_call_id: String,
    /// Arguments the model gave.
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// What the tool returned to the model.
    #[schema(value_type = Object)]
    pub result: Value,
    /// Wall time of the call.
    pub duration_ms: f64,
}

/// A source the RAG assistant's answer rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    /// `markdown` or `openapi`.
    pub source_type: String,
    /// Path of the indexed document.
    pub source_path: String,
    /// The chunk cited.
    pub chunk_id: String,
    /// Heading of the chunk's section, when it has one.
    pub heading: Option<String>,
    /// Relevance score with two decimals.
    pub relevance: String,
    /// The first 200 characters of the chunk (`...` when cut).
    pub snippet: String,
}

/// Answer to a chat message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatResponse {
    /// The session.
    pub session_id: String,
    /// The agent's answer.
    pub message: String,
    /// Tool calls made for this answer, in order.
    pub tool_calls: Vec<ToolCallInfo>,
    /// True when a gated action waits for approval.
    pub pending_approval: bool,
    /// That action.
    pub pending_action: Option<PendingAction>,
    /// Tokens this answer used.
    pub tokens_used: i64,
    /// The model that gave the final answer (`null` when no model ran).
    pub model: Option<String>,
    /// Sources of a RAG assistant's answer (`null` for the experiment agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citations: Option<Vec<Citation>>,
    /// RAG assistant: true when retrieval found nothing above the
    /// similarity threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_evidence: Option<bool>,
}

/// Body of `POST /agents/sessions/{id}/approve`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The pending action's id.
    #[schema(min_length = 1, max_length = 64)]
    pub action_id: String,
    /// Execute (true) or reject (false).
    pub approved: bool,
    /// Why (≤ 500 characters); kept in the tool-call audit.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Who decided (≤ 100 characters), kept in the tool-call audit
    /// (beyond the upstream; default `api`).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub approved_by: Option<String>,
}

impl Validate for ApprovalRequest {
    fn validate(&self, v: &mut Violations) {
        v.length("action_id", &self.action_id, 1, 64);
        if let Some(reason) = &self.reason {
            v.length("reason", reason, 0, 500);
        }
        if let Some(by) = &self.approved_by {
            v.length("approved_by", by, 1, 100);
        }
    }
}

/// Outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Approved and executed.
    Executed,
    /// Rejected, or approved but the action failed (`result.error`).
    Rejected,
    /// The action was past its `expires_at`; nothing ran.
    Expired,
}

/// Answer to a decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalResponse {
    /// The action decided.
    pub action_id: String,
    /// The decision as sent.
    pub approved: bool,
    /// The action's result when executed; `{error, error_type}` when it
    /// failed; `null` otherwise.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// What happened.
    pub status: ApprovalStatus,
}

/// One audited tool call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolCallRecord {
    /// The model's call id.
    pub tool_call_id: String,
    /// Tool name.
    pub tool_name: String,
    /// Arguments the model gave.
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// `ok`, `error`, `not_executed`, `approval_required`, then for gated
    /// calls `executed`, `rejected` or `expired`.
    pub status: String,
    /// The result, cut to 500 characters.
    pub result_summary: Option<String>,
    /// Wall time of the call (of the execution, for approved actions).
    pub duration_ms: f64,
    /// The model that asked for the call.
    pub model: Option<String>,
    /// The pending action's id (gated calls).
    pub action_id: Option<String>,
    /// Who decided (gated calls).
    pub approved_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// When the model asked for it.
    pub created_at: DateTime<Utc>,
}

/// `GET /agents/sessions/{id}/tool-calls`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolCallListResponse {
    /// The session.
    pub session_id: String,
    /// Every tool call of the session, oldest first.
    pub tool_calls: Vec<ToolCallRecord>,
}
