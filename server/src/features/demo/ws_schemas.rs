//! Shapes of the saved-workspace routes (`/demo/workspaces…`,
//! `/demo/approval-events`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{
    repo::{ListFilter, WorkspaceRow},
    schemas::valid_workspace_name,
};
use crate::{
    extract::{Validate, Violations},
    problem::Problem,
};

/// Query of `GET /demo/workspaces` (parsed by [`WorkspaceListQuery::parse`]
/// so that `tags` may repeat).
#[derive(Debug, Clone, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspaceListQuery {
    /// Page size (1–100, default 20).
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Rows to skip (≥ 0, default 0).
    #[param(default = 0, minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
    /// Case-insensitive substring of the name (2–100 characters).
    #[param(min_length = 2, max_length = 100)]
    pub q: Option<String>,
    /// Tags the row must all carry (repeat the parameter; ≤ 20 of 1–50
    /// characters).
    #[param(style = Form, explode, schema_with = tag_list)]
    pub tags: Option<Vec<String>>,
    /// Include archived rows (default false).
    pub include_archived: Option<bool>,
    /// `created_at` (default), `name`, `seed` or `status`; anything else
    /// falls back to `created_at desc`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    #[param(inline)]
    pub sort_order: Option<SortOrder>,
}

/// Schema of a tag list: at most 20 tags of 1–50 characters.
fn tag_list() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(50)),
        )
        .max_items(Some(20))
        .build()
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

impl WorkspaceListQuery {
    /// Parses a raw query string; errors name `query.<field>`.
    pub fn parse(raw: Option<&str>) -> Result<Self, Problem> {
        let mut query = Self::default();
        let mut v = Violations::with_prefix(Some("query"));
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if key.contains('\0') || value.contains('\0') {
                v.push(
                    &key.replace('\0', ""),
                    "NUL characters are not allowed",
                    "string_type",
                );
                continue;
            }
            let mut number = |field: &str| match value.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    v.push(field, "Input should be a valid integer", "int_parsing");
                    None
                }
            };
            match key.as_ref() {
                "limit" => query.limit = number("limit"),
                "offset" => query.offset = number("offset"),
                "q" => query.q = Some(value.into_owned()),
                "tags" => query
                    .tags
                    .get_or_insert_with(Vec::new)
                    .push(value.into_owned()),
                "include_archived" => match value.as_ref() {
                    "true" => query.include_archived = Some(true),
                    "false" => query.include_archived = Some(false),
                    _ => v.push(
                        "include_archived",
                        "Input should be a valid boolean",
                        "bool_parsing",
                    ),
                },
                "sort_by" => query.sort_by = Some(value.into_owned()),
                "sort_order" => match value.as_ref() {
                    "asc" => query.sort_order = Some(SortOrder::Asc),
                    "desc" => query.sort_order = Some(SortOrder::Desc),
                    _ => v.push("sort_order", "Input should be 'asc' or 'desc'", "enum"),
                },
                _ => {}
            }
        }
        if let Some(limit) = query.limit {
            v.range("limit", limit, 1, 100);
        }
        if let Some(offset) = query.offset {
            v.range("offset", offset, 0, 1_000_000);
        }
        if let Some(q) = &query.q {
            v.length("q", q, 2, 100);
        }
        if let Some(tags) = &query.tags {
            if tags.len() > 20 {
                v.push("tags", "At most 20 tags", "too_long");
            }
            for (i, tag) in tags.iter().enumerate() {
                v.length(&format!("tags.{i}"), tag, 1, 50);
            }
        }
        v.into_result().map(|()| query)
    }
}

/// A saved workspace in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceListItem {
    /// 32-hex id.
    pub workspace_id: String,
    /// Name (not unique).
    pub name: Option<String>,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// Seed of the run.
    pub seed: i64,
    /// Preset of the run.
    pub scenario: String,
    /// The run reset the data.
    pub reset: bool,
    /// The run kept the existing data.
    pub skip_seed: bool,
    /// `{winner_model_type, winner_wape, wall_clock_s}` (+
    /// `story_reproduction` on replays).
    #[schema(value_type = Option<Object>)]
    pub result_summary: Option<Value>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Hidden from the default list.
    pub archived: bool,
    /// Listed first.
    pub pinned: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// The workspace this run replayed (may no longer exist).
    pub replayed_from_workspace_id: Option<String>,
    /// Seeder knobs of the run.
    #[schema(value_type = Option<Object>)]
    pub seed_overrides: Option<Value>,
    /// Focus pair asked for.
    #[schema(value_type = Option<Object>)]
    pub user_scope: Option<Value>,
    /// `{train_model_types, backtest}` when set.
    #[schema(value_type = Option<Object>)]
    pub run_config: Option<Value>,
}

/// A saved workspace with every slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceDetail {
    /// The list fields.
    #[serde(flatten)]
    pub item: WorkspaceListItem,
    /// Focus store.
    pub store_id: Option<i64>,
    /// Focus product.
    pub product_id: Option<i64>,
    /// First day of data.
    pub date_start: Option<NaiveDate>,
    /// Last day of data.
    pub date_end: Option<NaiveDate>,
    /// Objects the run created (soft references).
    #[schema(value_type = Object)]
    pub created_objects: Value,
    /// Free text.
    pub notes: Option<String>,
    /// Slot schema version.
    pub config_schema_version: i64,
    /// HITL decisions.
    #[schema(value_type = Option<Vec<Object>>)]
    pub approval_events: Option<Value>,
    /// Knowledge-step events.
    #[schema(value_type = Option<Vec<Object>>)]
    pub rag_events: Option<Value>,
    /// Jobs the run submitted.
    #[schema(value_type = Option<Vec<String>>)]
    pub job_ids: Option<Value>,
    /// Wall clock and per-phase / per-step durations.
    #[schema(value_type = Option<Object>)]
    pub phase_summaries: Option<Value>,
}

impl WorkspaceRow {
    /// The list form.
    pub fn list_item(&self) -> WorkspaceListItem {
        WorkspaceListItem {
            workspace_id: self.workspace_id.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
            seed: self.seed,
            scenario: self.scenario.clone(),
            reset: self.reset,
            skip_seed: self.skip_seed,
            result_summary: self.result_summary.as_ref().map(|j| j.0.clone()),
            created_at: self.created_at,
            archived: self.archived,
            pinned: self.pinned,
            tags: self.tags.0.as_array().map_or_else(Vec::new, |tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            }),
            replayed_from_workspace_id: self.replayed_from_workspace_id.clone(),
            seed_overrides: self.seed_overrides.as_ref().map(|j| j.0.clone()),
            user_scope: self.user_scope.as_ref().map(|j| j.0.clone()),
            run_config: self.run_config.as_ref().map(|j| j.0.clone()),
        }
    }

    /// The detail form.
    pub fn detail(&self) -> WorkspaceDetail {
        WorkspaceDetail {
            item: self.list_item(),
            store_id: self.store_id,
            product_id: self.product_id,
            date_start: self.date_start,
            date_end: self.date_end,
            created_objects: self.created_objects.0.clone(),
            notes: self.notes.clone(),
            config_schema_version: self.config_schema_version,
            approval_events: self.approval_events.as_ref().map(|j| j.0.clone()),
            rag_events: self.rag_events.as_ref().map(|j| j.0.clone()),
            job_ids: self.job_ids.as_ref().map(|j| j.0.clone()),
            phase_summaries: self.phase_summaries.as_ref().map(|j| j.0.clone()),
        }
    }
}

/// `GET /demo/workspaces`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    /// This page.
    pub workspaces: Vec<WorkspaceListItem>,
    /// Rows under the same filters.
    pub total: i64,
}

/// Reads a present key as `Some(value)` (`Some(None)` for null).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Body of `PATCH /demo/workspaces/{id}`: only present keys change;
/// `name`/`notes` null clears them; `tags`, `archived`, `pinned` may not be
/// null; unknown keys (also `status`) are a 422.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceUpdate {
    /// New name (`^[a-z0-9][a-z0-9\-_]*$`, ≤ 100) or null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 100, pattern = r"^[a-z0-9][a-z0-9\-_]*$")]
    pub name: Option<Option<String>>,
    /// New notes (≤ 2000) or null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 2000)]
    pub notes: Option<Option<String>>,
    /// Replaces the tags (≤ 20 items of 1–50 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = tag_list)]
    pub tags: Option<Option<Vec<String>>>,
    /// Archive or restore.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool)]
    pub archived: Option<Option<bool>>,
    /// Pin or unpin.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool)]
    pub pinned: Option<Option<bool>>,
}

impl Validate for WorkspaceUpdate {
    fn validate(&self, v: &mut Violations) {
        if let Some(Some(name)) = &self.name {
            if !valid_workspace_name(name) {
                v.push(
                    "name",
                    "name must match ^[a-z0-9][a-z0-9\\-_]*$ and be at most 100 characters",
                    "string_pattern_mismatch",
                );
            }
        }
        if let Some(Some(notes)) = &self.notes {
            v.length("notes", notes, 0, 2000);
        }
        match &self.tags {
            Some(None) => v.push("tags", "tags may not be null", "list_type"),
            Some(Some(tags)) => {
                if tags.len() > 20 {
                    v.push("tags", "at most 20 tags", "too_long");
                }
                for (i, tag) in tags.iter().enumerate() {
                    v.length(&format!("tags.{i}"), tag, 1, 50);
                }
            }
            None => {}
        }
        for (field, value) in [("archived", self.archived), ("pinned", self.pinned)] {
            if value == Some(None) {
                v.push(field, format!("{field} may not be null"), "bool_type");
            }
        }
    }
}

/// Query of `GET /demo/approval-events`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalEventsQuery {
    /// Most events (1–200, default 50).
    #[serde(default = "fifty")]
    #[param(default = 50, minimum = 1, maximum = 200)]
    pub limit: i64,
}

fn fifty() -> i64 {
    50
}

impl Validate for ApprovalEventsQuery {
    fn validate(&self, v: &mut Violations) {
        v.range("limit", self.limit, 1, 200);
    }
}

/// `GET /demo/approval-events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalEvents {
    /// Entries of the newest workspaces first, each with `workspace_id`
    /// and `workspace_name`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// Entries returned.
    pub total: i64,
}

/// Liveness of one soft reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceStatus {
    /// The probe answered 2xx.
    Alive,
    /// The probe answered 404.
    Dead,
    /// Any other answer or none.
    Unknown,
}

/// One probed reference.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceHealth {
    /// Key in `created_objects`.
    pub key: String,
    /// `model_run`, `scenario_plan`, `alias`, `batch`, `agent_session`, `job`.
    pub ref_type: String,
    /// The referenced id.
    pub ref_id: String,
    /// Probe outcome.
    pub status: ReferenceStatus,
    /// The route probed.
    pub probe_path: String,
}

/// `GET /demo/workspaces/{id}/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceHealth {
    /// The workspace.
    pub workspace_id: String,
    /// Its status.
    pub workspace_status: String,
    /// Status is not `completed`.
    pub partial_run: bool,
    /// Every probed reference.
    pub references: Vec<ReferenceHealth>,
    /// Alive references.
    pub alive: i64,
    /// Dead references.
    pub dead: i64,
    /// Unknown references.
    pub unknown: i64,
    /// When the probes ran.
    pub checked_at: DateTime<Utc>,
}

/// One file of an export bundle.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleFile {
    /// POSIX path relative to the bundle.
    pub path: String,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// `POST /demo/workspaces/{id}/export`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceExport {
    /// The workspace.
    pub workspace_id: String,
    /// `<export root>/<workspace_id>`.
    pub bundle_path: String,
    /// Always 1.
    pub bundle_format_version: i64,
    /// When the bundle was written.
    pub exported_at: DateTime<Utc>,
    /// Every file, `checksums.sha256` included, by path.
    pub files: Vec<BundleFile>,
    /// Plans written under `scenario_plans/`.
    pub scenario_plans_exported: i64,
    /// Model runs resolved.
    pub model_runs_referenced: i64,
    /// References that did not resolve (`{key, ref_id, reason}`).
    #[schema(value_type = Vec<Object>)]
    pub unresolved_references: Vec<Value>,
    /// Every checksum recomputed from disk matched.
    pub validated: bool,
}

/// Sortable columns of the workspace list.
const SORTABLE: [&str; 4] = ["created_at", "name", "seed", "status"];
/// Default page size of the workspace list.
pub const WORKSPACE_PAGE_SIZE: i64 = 20;

impl WorkspaceListQuery {
    /// The list filter of this query: an unknown `sort_by` falls back to
    /// `created_at desc`; 20 rows a page by default.
    pub fn into_filter(self) -> ListFilter {
        let (sort_column, order) = match self.sort_by.as_deref() {
            Some(column) => match SORTABLE.into_iter().find(|c| *c == column) {
                Some(known) => (known, self.sort_order.unwrap_or(SortOrder::Desc)),
                None => ("created_at", SortOrder::Desc),
            },
            None => ("created_at", self.sort_order.unwrap_or(SortOrder::Desc)),
        };
        ListFilter {
            q: self.q,
            tags: self.tags.unwrap_or_default(),
            include_archived: self.include_archived.unwrap_or(false),
            sort_column,
            direction: if order == SortOrder::Asc {
                "ASC"
            } else {
                "DESC"
            },
            limit: self.limit.unwrap_or(WORKSPACE_PAGE_SIZE),
            offset: self.offset.unwrap_or(0),
        }
    }
}
