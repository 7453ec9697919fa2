//! Request and response types of `/registry`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{Validate, Violations};

/// Largest value an `INTEGER` column holds.
pub const MAX_INT: i64 = i32::MAX as i64;

/// Lifecycle status of a model run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Registered, not started.
    Pending,
    /// Training.
    Running,
    /// Trained; may be aliased.
    Success,
    /// Training failed.
    Failed,
    /// Retired (terminal).
    Archived,
}

impl RunStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Archived => "archived",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "success" => Self::Success,
            "failed" => Self::Failed,
            "archived" => Self::Archived,
            _ => return None,
        })
    }

    /// The statuses this one may move to (spec 2.2).
    pub fn valid_transitions(self) -> &'static [RunStatus] {
        match self {
            Self::Pending => &[Self::Running, Self::Archived],
            Self::Running => &[Self::Success, Self::Failed, Self::Archived],
            Self::Success | Self::Failed => &[Self::Archived],
            Self::Archived => &[],
        }
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(self, to: RunStatus) -> bool {
        self.valid_transitions().contains(&to)
    }
}

/// `{agent_id, session_id}` of the agent that created a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentContext {
    /// Agent identifier (≤ 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub agent_id: Option<String>,
    /// Agent session identifier (≤ 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub session_id: Option<String>,
}

/// Body of `POST /registry/runs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCreate {
    /// Model type (1–50 characters).
    #[schema(min_length = 1, max_length = 50)]
    pub model_type: String,
    /// Model configuration; its canonical hash is the run's `config_hash`.
    #[schema(value_type = Object)]
    pub model_config: Map<String, Value>,
    /// Feature configuration.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub feature_config: Option<Map<String, Value>>,
    /// First day of the training data.
    pub data_window_start: NaiveDate,
    /// Last day of the training data (≥ start).
    pub data_window_end: NaiveDate,
    /// Store (≥ 1).
    #[schema(minimum = 1, maximum = 2147483647)]
    pub store_id: i64,
    /// Product (≥ 1).
    #[schema(minimum = 1, maximum = 2147483647)]
    pub product_id: i64,
    /// Agent that created the run.
    #[serde(default, deserialize_with = "crate::extract::object_only")]
    pub agent_context: Option<AgentContext>,
    /// Git commit of the code that trained (≤ 40 characters).
    #[serde(default)]
    #[schema(max_length = 40)]
    pub git_sha: Option<String>,
    /// Merged into the captured `runtime_info`, caller keys winning
    /// (`feature_frame_version`, `feature_groups`, …).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub runtime_info_extras: Option<Map<String, Value>>,
}

impl Validate for RunCreate {
    fn validate(&self, v: &mut Violations) {
        v.length("model_type", &self.model_type, 1, 50);
        v.range("store_id", self.store_id, 1, MAX_INT);
        v.range("product_id", self.product_id, 1, MAX_INT);
        if self.data_window_end < self.data_window_start {
            v.push(
                "data_window_end",
                "data_window_end must be on or after data_window_start",
                "value_error",
            );
        }
        if let Some(sha) = &self.git_sha {
            v.length("git_sha", sha, 0, 40);
        }
        if let Some(context) = &self.agent_context {
            if let Some(id) = &context.agent_id {
                v.length("agent_context.agent_id", id, 0, 200);
            }
            if let Some(id) = &context.session_id {
                v.length("agent_context.session_id", id, 0, 200);
            }
        }
    }
}

/// Body of `PATCH /registry/runs/{run_id}`: only non-null fields are
/// applied (a field can never be cleared); `metrics` replaces the whole
/// object.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunUpdate {
    /// New status (must be a valid transition).
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Metrics (replaces the stored object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<Map<String, Value>>,
    /// Artifact location relative to the registry root (≤ 500).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub artifact_uri: Option<String>,
    /// Lowercase hex SHA-256 of the artifact (64 characters).
    #[serde(default)]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub artifact_hash: Option<String>,
    /// Artifact size in bytes (≥ 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub artifact_size_bytes: Option<i64>,
    /// Failure message (≤ 2000).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub error_message: Option<String>,
}

impl Validate for RunUpdate {
    fn validate(&self, v: &mut Violations) {
        if let Some(uri) = &self.artifact_uri {
            v.length("artifact_uri", uri, 1, 500);
        }
        if let Some(hash) = &self.artifact_hash {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                v.push(
                    "artifact_hash",
                    "artifact_hash must be 64 hexadecimal characters (SHA-256)",
                    "string_pattern_mismatch",
                );
            }
        }
        if let Some(size) = self.artifact_size_bytes {
            v.range("artifact_size_bytes", size, 0, MAX_INT);
        }
        if let Some(message) = &self.error_message {
            v.length("error_message", message, 0, 2000);
        }
    }
}

/// One model run (spec 2.7).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunResponse {
    /// 32-hex run id.
    pub run_id: String,
    /// Lifecycle status.
    pub status: RunStatus,
    /// Model type.
    pub model_type: String,
    /// `baseline`, `tree` or `additive` (computed from `model_type`).
    pub model_family: &'static str,
    /// Model configuration.
    #[schema(value_type = Object)]
    pub model_config: Value,
    /// Feature configuration.
    #[schema(value_type = Option<Object>)]
    pub feature_config: Option<Value>,
    /// 16-hex SHA-256 prefix of the canonical model config.
    pub config_hash: String,
    /// First training day.
    pub data_window_start: NaiveDate,
    /// Last training day.
    pub data_window_end: NaiveDate,
    /// Store.
    pub store_id: i64,
    /// Product.
    pub product_id: i64,
    /// Metrics.
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<Value>,
    /// Artifact location relative to the registry root.
    pub artifact_uri: Option<String>,
    /// SHA-256 of the artifact.
    pub artifact_hash: Option<String>,
    /// Artifact size in bytes.
    pub artifact_size_bytes: Option<i64>,
    /// Versions and feature metadata captured at creation.
    #[schema(value_type = Option<Object>)]
    pub runtime_info: Option<Value>,
    /// Agent that created the run.
    #[schema(value_type = Option<Object>)]
    pub agent_context: Option<Value>,
    /// Git commit.
    pub git_sha: Option<String>,
    /// Failure message.
    pub error_message: Option<String>,
    /// `runtime_info.feature_frame_version` when it is an integer.
    pub feature_frame_version: Option<i64>,
    /// `runtime_info.feature_groups` when it is an object.
    #[schema(value_type = Option<Object>)]
    pub feature_groups: Option<Value>,
    /// When the run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the run succeeded or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
}

/// Query of `GET /registry/runs`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListQuery {
    /// Page (≥ 1, default 1).
    #[serde(default = "one")]
    #[param(default = 1, minimum = 1, maximum = 1_000_000)]
    pub page: i64,
    /// Page size (1–100, default 20).
    #[serde(default = "twenty")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub page_size: i64,
    /// Exact model type.
    #[param(min_length = 1, max_length = 50)]
    pub model_type: Option<String>,
    /// Status filter.
    pub status: Option<RunStatus>,
    /// Store filter (≥ 1).
    #[param(minimum = 1, maximum = 2147483647)]
    pub store_id: Option<i64>,
    /// Product filter (≥ 1).
    #[param(minimum = 1, maximum = 2147483647)]
    pub product_id: Option<i64>,
    /// `created_at` (default), `model_type`, `status`, `store_id` or
    /// `product_id`; anything else falls back to `created_at`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default); anything else falls back to `desc`.
    pub sort_order: Option<String>,
}

pub(crate) fn one() -> i64 {
    1
}

pub(crate) fn twenty() -> i64 {
    20
}

impl Validate for RunListQuery {
    fn validate(&self, v: &mut Violations) {
        v.range("page", self.page, 1, 1_000_000);
        v.range("page_size", self.page_size, 1, 100);
        if let Some(id) = self.store_id {
            v.range("store_id", id, 1, MAX_INT);
        }
        if let Some(id) = self.product_id {
            v.range("product_id", id, 1, MAX_INT);
        }
        if let Some(model_type) = &self.model_type {
            v.length("model_type", model_type, 1, 50);
        }
    }
}

/// A page of runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunListResponse {
    /// The runs of this page.
    pub runs: Vec<RunResponse>,
    /// Size of the filtered set.
    pub total: i64,
    /// Page number.
    pub page: i64,
    /// Page size.
    pub page_size: i64,
}

/// Result of `GET /registry/runs/{run_id}/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether the file's SHA-256 equals the stored hash.
    pub verified: bool,
    /// Run id.
    pub run_id: String,
    /// Artifact location.
    pub artifact_uri: String,
    /// Stored hash (when verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_hash: Option<String>,
    /// Recomputed hash (when verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_hash: Option<String>,
    /// Mismatch message (when not verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Body of `POST /registry/aliases`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasCreate {
    /// `^[a-z0-9][a-z0-9\-_]*$`, 1–100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = "^[a-z0-9][a-z0-9\\-_]*$")]
    pub alias_name: String,
    /// The (success) run to point at.
    #[schema(min_length = 1, max_length = 64)]
    pub run_id: String,
    /// Description (≤ 500); a missing one clears the stored description.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Who made the change (recorded in the alias history, ≤ 100).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub actor: Option<String>,
    /// Why (recorded in the alias history, ≤ 500).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// True for a valid alias name.
pub fn valid_alias_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_lowercase() || first.is_ascii_digit() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Validate for AliasCreate {
    fn validate(&self, v: &mut Violations) {
        v.length("alias_name", &self.alias_name, 1, 100);
        if !self.alias_name.is_empty() && !valid_alias_name(&self.alias_name) {
            v.push(
                "alias_name",
                "String should match pattern '^[a-z0-9][a-z0-9\\-_]*$'",
                "string_pattern_mismatch",
            );
        }
        v.length("run_id", &self.run_id, 1, 64);
        if let Some(description) = &self.description {
            v.length("description", description, 0, 500);
        }
        if let Some(actor) = &self.actor {
            v.length("actor", actor, 0, 100);
        }
        if let Some(reason) = &self.reason {
            v.length("reason", reason, 0, 500);
        }
    }
}

/// Query of `DELETE /registry/aliases/{alias_name}`: optional audit fields.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AliasDeleteQuery {
    /// Who deleted the alias (≤ 100).
    #[param(max_length = 100)]
    pub actor: Option<String>,
    /// Why (≤ 500).
    #[param(max_length = 500)]
    pub reason: Option<String>,
}

impl Validate for AliasDeleteQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(actor) = &self.actor {
            v.length("actor", actor, 0, 100);
        }
        if let Some(reason) = &self.reason {
            v.length("reason", reason, 0, 500);
        }
    }
}

/// A deployment alias.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AliasResponse {
    /// Alias name.
    pub alias_name: String,
    /// The run it points at.
    pub run_id: String,
    /// That run's current status.
    pub run_status: RunStatus,
    /// That run's model type.
    pub model_type: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time (kept when the alias moves).
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One entry of an alias's append-only history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AliasHistoryEntry {
    /// Alias name.
    pub alias_name: String,
    /// `create`, `move` (to another run), `update` (same run, new
    /// description) or `delete`.
    pub action: String,
    /// Run before the change (null for `create`).
    pub from_run_id: Option<String>,
    /// Run after the change (null for `delete`).
    pub to_run_id: Option<String>,
    /// Description after the change.
    pub description: Option<String>,
    /// Who made the change.
    pub actor: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// `GET /registry/aliases/{alias_name}/history`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AliasHistoryResponse {
    /// Alias name.
    pub alias_name: String,
    /// Entries, oldest first.
    pub history: Vec<AliasHistoryEntry>,
}

/// `GET /registry/compare/{a}/{b}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompareResponse {
    /// First run.
    pub run_a: RunResponse,
    /// Second run.
    pub run_b: RunResponse,
    /// Top-level model config keys whose values differ: `{a, b}`.
    #[schema(value_type = Object)]
    pub config_diff: Value,
    /// Every metric key: `{a, b, diff = b − a}` (numbers or null).
    #[schema(value_type = Object)]
    pub metrics_diff: Value,
    /// Data window / series fields that differ: `{a, b}` for
    /// `data_window_start`, `data_window_end`, `store_id`, `product_id`.
    #[schema(value_type = Object)]
    pub data_window_diff: Value,
}
