//! Request and event shapes of the demo pipeline (`POST /demo/run`,
//! `WS /demo/stream`, `POST /demo/hitl-decision`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::extract::{Validate, Violations};

/// The seeder presets a run may name; only `showcase_rich` changes the
/// step table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioPreset {
    /// Retail standard.
    RetailStandard,
    /// Holiday rush (calendar-pinned window).
    HolidayRush,
    /// High variance.
    HighVariance,
    /// Stockout heavy.
    StockoutHeavy,
    /// New launches.
    NewLaunches,
    /// Sparse.
    Sparse,
    /// The small default.
    #[default]
    DemoMinimal,
    /// The 24-step showcase.
    ShowcaseRich,
}

impl ScenarioPreset {
    /// The name the seeder knows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetailStandard => "retail_standard",
            Self::HolidayRush => "holiday_rush",
            Self::HighVariance => "high_variance",
            Self::StockoutHeavy => "stockout_heavy",
            Self::NewLaunches => "new_launches",
            Self::Sparse => "sparse",
            Self::DemoMinimal => "demo_minimal",
            Self::ShowcaseRich => "showcase_rich",
        }
    }
}

/// The seeder knobs a run may override, forwarded verbatim to
/// `POST /seeder/generate` as its `overrides` (the seeder's own type is
/// private to its slice). Unknown knobs are a 422.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeederOverrides {
    /// 1..100 stores.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub stores: Option<i64>,
    /// 1..500 products.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub products: Option<i64>,
    /// 75..365 days (not with `holiday_rush`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 75, maximum = 365)]
    pub window_days: Option<i64>,
    /// 0..0.9: share of pairs that never sell.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.9)]
    pub sparsity: Option<f64>,
    /// 0..0.5: promotion probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub promotion_intensity: Option<f64>,
    /// 0..0.5: stockout probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub stockout_intensity: Option<f64>,
    /// 0..0.5: relative demand noise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub noise_sigma: Option<f64>,
}

impl SeederOverrides {
    /// `{}` counts as absent.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Whether a run is recorded as a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preservation {
    /// Nothing recorded.
    #[default]
    Ephemeral,
    /// Recorded as a `showcase_workspace` row.
    Keep,
}

/// The focus series a run models instead of the first one found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserScope {
    /// Store (≥ 1).
    #[schema(minimum = 1, maximum = 2147483647)]
    pub store_id: i64,
    /// Product (≥ 1).
    #[schema(minimum = 1, maximum = 2147483647)]
    pub product_id: i64,
}

/// Split strategy of the demo backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemoStrategy {
    /// Growing training window.
    #[default]
    Expanding,
    /// Fixed-size training window.
    Sliding,
}

/// Metric that picks the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemoMetric {
    /// Weighted absolute percentage error.
    #[default]
    Wape,
    /// Mean absolute error.
    Mae,
    /// Root mean squared error.
    Rmse,
}

impl DemoMetric {
    /// The metric's key in backtest results.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wape => "wape",
            Self::Mae => "mae",
            Self::Rmse => "rmse",
        }
    }
}

/// The backtest split of a run (`gap` must be smaller than `horizon`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoBacktestConfig {
    /// Days per fold (1–90, default 14).
    #[serde(default = "default_horizon")]
    #[schema(minimum = 1, maximum = 90, default = 14)]
    pub horizon: i64,
    /// `expanding` (default) or `sliding`.
    #[serde(default)]
    pub strategy: DemoStrategy,
    /// Folds (2–20, default 3).
    #[serde(default = "default_splits")]
    #[schema(minimum = 2, maximum = 20, default = 3)]
    pub n_splits: i64,
    /// Smallest training window (≥ 7, default 30).
    #[serde(default = "default_min_train")]
    #[schema(minimum = 7, maximum = 100000, default = 30)]
    pub min_train_size: i64,
    /// Days between training and test (0–30, default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 30, default = 0)]
    pub gap: i64,
    /// Winner metric (default `wape`).
    #[serde(default)]
    pub metric: DemoMetric,
}

fn default_horizon() -> i64 {
    14
}

fn default_splits() -> i64 {
    3
}

fn default_min_train() -> i64 {
    30
}

impl Default for DemoBacktestConfig {
    fn default() -> Self {
        Self {
            horizon: default_horizon(),
            strategy: DemoStrategy::Expanding,
            n_splits: default_splits(),
            min_train_size: default_min_train(),
            gap: 0,
            metric: DemoMetric::Wape,
        }
    }
}

/// Body of `POST /demo/run` and the start frame of `WS /demo/stream`.
/// Unknown keys are ignored (forward compatibility); the nested objects
/// reject them. Cross-field rules (422): `workspace_name` and
/// `replayed_from_workspace_id` require `preservation = "keep"`;
/// `seed_overrides` requires `skip_seed = false` and cannot set
/// `window_days` on `holiday_rush`; `train_model_types` are unique known
/// model types; `backtest.gap` < `backtest.horizon`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DemoRunRequest {
    /// Seed of the generated data (≥ 0, default 42).
    #[serde(default = "default_seed")]
    #[schema(minimum = 0, maximum = 2147483647, default = 42)]
    pub seed: i64,
    /// Delete all data first (default false).
    #[serde(default)]
    pub reset: bool,
    /// Keep the existing data instead of seeding (default true).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub skip_seed: bool,
    /// Seeder preset (default `demo_minimal`).
    #[serde(default)]
    pub scenario: ScenarioPreset,
    /// `ephemeral` (default) or `keep` (record a workspace).
    #[serde(default)]
    pub preservation: Preservation,
    /// Workspace name (≤ 100, `^[a-z0-9][a-z0-9\-_]*$`; needs `keep`).
    #[schema(max_length = 100, pattern = r"^[a-z0-9][a-z0-9\-_]*$")]
    pub workspace_name: Option<String>,
    /// The workspace this run replays (32 hex; needs `keep`; not checked).
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub replayed_from_workspace_id: Option<String>,
    /// Seeder knobs forwarded to `POST /seeder/generate` (needs
    /// `skip_seed = false`; `{}` counts as absent).
    pub seed_overrides: Option<SeederOverrides>,
    /// The focus series.
    pub user_scope: Option<UserScope>,
    /// Models to train (1–10 unique known types; default naive,
    /// seasonal_naive, moving_average).
    #[schema(schema_with = model_type_list)]
    pub train_model_types: Option<Vec<String>>,
    /// Backtest split (default: horizon 14, 3 expanding splits, min train
    /// 30, gap 0, WAPE).
    pub backtest: Option<DemoBacktestConfig>,
}

/// Schema of `train_model_types`: 1–10 unique known model types, or null.
fn model_type_list() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let names: Vec<&str> = forecastlab_model_taxonomy::known_names().collect();
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .max_items(Some(10))
        .unique_items(true)
        .build()
}

fn default_seed() -> i64 {
    42
}

fn yes() -> bool {
    true
}

/// The name pattern of workspaces.
pub fn valid_workspace_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 100
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A 32-character lowercase hex id.
pub fn valid_hex_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Validate for DemoRunRequest {
    fn validate(&self, v: &mut Violations) {
        v.range("seed", self.seed, 0, 2_147_483_647);
        let keep = self.preservation == Preservation::Keep;
        if let Some(name) = &self.workspace_name {
            if !valid_workspace_name(name) {
                v.push(
                    "workspace_name",
                    "workspace_name must match ^[a-z0-9][a-z0-9\\-_]*$ and be at most 100 characters",
                    "string_pattern_mismatch",
                );
            }
            if !keep {
                v.push(
                    "workspace_name",
                    "workspace_name requires preservation='keep'",
                    "value_error",
                );
            }
        }
        if let Some(id) = &self.replayed_from_workspace_id {
            if !valid_hex_id(id) {
                v.push(
                    "replayed_from_workspace_id",
                    "replayed_from_workspace_id must match ^[0-9a-f]{32}$",
                    "string_pattern_mismatch",
                );
            }
            if !keep {
                v.push(
                    "replayed_from_workspace_id",
                    "replayed_from_workspace_id requires preservation='keep'",
                    "value_error",
                );
            }
        }
        if let Some(overrides) = self.seed_overrides.as_ref().filter(|o| !o.is_empty()) {
            overrides_ranges(overrides, v);
            if self.skip_seed {
                v.push(
                    "seed_overrides",
                    "seed_overrides requires skip_seed=false (Re-seed first)",
                    "value_error",
                );
            }
            if self.scenario == ScenarioPreset::HolidayRush && overrides.window_days.is_some() {
                v.push(
                    "seed_overrides.window_days",
                    "window_days cannot override the calendar-pinned holiday_rush window",
                    "value_error",
                );
            }
        }
        if let Some(scope) = &self.user_scope {
            v.range("user_scope.store_id", scope.store_id, 1, 2_147_483_647);
            v.range("user_scope.product_id", scope.product_id, 1, 2_147_483_647);
        }
        if let Some(types) = &self.train_model_types {
            check_model_types(types, v);
        }
        if let Some(backtest) = &self.backtest {
            v.range("backtest.horizon", backtest.horizon, 1, 90);
            v.range("backtest.n_splits", backtest.n_splits, 2, 20);
            v.range(
                "backtest.min_train_size",
                backtest.min_train_size,
                7,
                100_000,
            );
            v.range("backtest.gap", backtest.gap, 0, 30);
            if backtest.gap >= backtest.horizon {
                v.push(
                    "backtest",
                    format!(
                        "horizon ({}) must be greater than gap ({})",
                        backtest.horizon, backtest.gap
                    ),
                    "value_error",
                );
            }
        }
    }
}

fn overrides_ranges(o: &SeederOverrides, v: &mut Violations) {
    let p = "seed_overrides.";
    if let Some(x) = o.stores {
        v.range(&format!("{p}stores"), x, 1, 100);
    }
    if let Some(x) = o.products {
        v.range(&format!("{p}products"), x, 1, 500);
    }
    if let Some(x) = o.window_days {
        v.range(&format!("{p}window_days"), x, 75, 365);
    }
    if let Some(x) = o.sparsity {
        v.range(&format!("{p}sparsity"), x, 0.0, 0.9);
    }
    for (name, value) in [
        ("promotion_intensity", o.promotion_intensity),
        ("stockout_intensity", o.stockout_intensity),
        ("noise_sigma", o.noise_sigma),
    ] {
        if let Some(x) = value {
            v.range(&format!("{p}{name}"), x, 0.0, 0.5);
        }
    }
}

fn check_model_types(types: &[String], v: &mut Violations) {
    if types.is_empty() || types.len() > 10 {
        v.push(
            "train_model_types",
            "train_model_types must have 1 to 10 items",
            "too_short",
        );
    }
    let unknown: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|name| forecastlab_model_taxonomy::lookup(name).is_none())
        .collect();
    if !unknown.is_empty() {
        let valid: Vec<&str> = forecastlab_model_taxonomy::known_names().collect();
        v.push(
            "train_model_types",
            format!("Unknown model type(s): {unknown:?}. Valid: {valid:?}"),
            "value_error",
        );
    }
    let mut sorted: Vec<&String> = types.iter().collect();
    sorted.sort();
    if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
        v.push(
            "train_model_types",
            "train_model_types contains duplicates",
            "value_error",
        );
    }
}

/// Kind of a pipeline event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A step began.
    StepStart,
    /// A step finished (or, for the HITL step, awaits a decision).
    StepComplete,
    /// The run ended; always the last event.
    PipelineComplete,
    /// A bad start frame or a busy pipeline (WebSocket only).
    Error,
}

/// Outcome of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Intermediate: still waiting (HITL).
    Running,
    /// Done.
    Pass,
    /// Failed; the run stops.
    Fail,
    /// Not applicable or not configured.
    Skip,
    /// Done with a caveat.
    Warn,
}

/// One event of a run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepEvent {
    /// Kind of event.
    pub event_type: EventType,
    /// Step name (`summary` on the final event, `pipeline` on errors).
    pub step_name: String,
    /// 1-based step index.
    pub step_index: usize,
    /// Steps of this flow.
    pub total_steps: usize,
    /// Null on `step_start`.
    pub status: Option<StepStatus>,
    /// Human detail.
    pub detail: String,
    /// Wall clock of the step.
    pub duration_ms: f64,
    /// Structured payload.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// When the event was emitted.
    pub timestamp: DateTime<Utc>,
    /// Phase of the step (null on the final and error events).
    pub phase_name: Option<String>,
    /// 1-based phase index.
    pub phase_index: Option<usize>,
    /// Phases of this flow.
    pub phase_total: Option<usize>,
}

/// Overall result of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    /// No step failed.
    Pass,
    /// A step failed.
    Fail,
}

/// Response of `POST /demo/run`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DemoRunResult {
    /// `fail` when a step failed.
    pub overall_status: OverallStatus,
    /// Every `step_complete` event, intermediate ones included.
    pub steps: Vec<StepEvent>,
    /// Model type of the backtest winner.
    pub winner_model_type: Option<String>,
    /// Its winning metric value.
    pub winner_wape: Option<f64>,
    /// Run registered for the winner.
    pub winning_run_id: Option<String>,
    /// `demo-production` when a winning run exists.
    pub alias: Option<String>,
    /// Wall clock of the run in seconds.
    pub wall_clock_s: f64,
    /// Workspace recording this run (`keep` only).
    pub workspace_id: Option<String>,
}

/// A decision of the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HitlDecision {
    /// Execute the gated action.
    Approved,
    /// Do not execute it.
    Rejected,
}

/// Body of `POST /demo/hitl-decision`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HitlDecisionRequest {
    /// The pending action (from the step's intermediate event).
    #[schema(min_length = 1, max_length = 64)]
    pub action_id: String,
    /// `approved` or `rejected`.
    pub decision: HitlDecision,
    /// Why (≤ 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

impl Validate for HitlDecisionRequest {
    fn validate(&self, v: &mut Violations) {
        v.length("action_id", &self.action_id, 1, 64);
        if let Some(reason) = &self.reason {
            v.length("reason", reason, 0, 500);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<DemoRunRequest, Vec<String>> {
        let request: DemoRunRequest =
            serde_json::from_value(body).map_err(|e| vec![e.to_string()])?;
        let mut v = Violations::with_prefix(None);
        request.validate(&mut v);
        match v.into_result() {
            Ok(()) => Ok(request),
            Err(problem) => Err(problem
                .errors
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.message)
                .collect()),
        }
    }

    #[test]
    fn defaults() {
        let request = parse(json!({"unknown": 1})).unwrap();
        assert_eq!(request.seed, 42);
        assert!(!request.reset && request.skip_seed);
        assert_eq!(request.scenario, ScenarioPreset::DemoMinimal);
        assert_eq!(request.preservation, Preservation::Ephemeral);
    }

    #[test]
    fn cross_field_rules_have_the_spec_messages() {
        let cases = [
            (
                json!({"workspace_name": "a"}),
                "workspace_name requires preservation='keep'",
            ),
            (
                json!({"replayed_from_workspace_id": "0".repeat(32)}),
                "replayed_from_workspace_id requires preservation='keep'",
            ),
            (
                json!({"seed_overrides": {"stores": 2}}),
                "seed_overrides requires skip_seed=false (Re-seed first)",
            ),
            (
                json!({"skip_seed": false, "scenario": "holiday_rush", "seed_overrides": {"window_days": 90}}),
                "window_days cannot override the calendar-pinned holiday_rush window",
            ),
            (
                json!({"train_model_types": ["naive", "naive"]}),
                "train_model_types contains duplicates",
            ),
            (
                json!({"backtest": {"horizon": 5, "gap": 5}}),
                "horizon (5) must be greater than gap (5)",
            ),
        ];
        for (body, message) in cases {
            let errors = parse(body.clone()).unwrap_err();
            assert!(errors.iter().any(|e| e == message), "{body}: {errors:?}");
        }
        let errors = parse(json!({"train_model_types": ["naive", "nope"]})).unwrap_err();
        assert!(errors[0].starts_with("Unknown model type(s): [\"nope\"]. Valid: ["));
    }

    #[test]
    fn empty_overrides_count_as_absent_and_nested_objects_are_strict() {
        assert!(parse(json!({"seed_overrides": {}})).is_ok());
        assert!(parse(json!({"user_scope": {"store_id": 1, "product_id": 1, "x": 1}})).is_err());
        assert!(parse(json!({"seed_overrides": {"nope": 1}, "skip_seed": false})).is_err());
        assert!(parse(json!({"seed": "4"})).is_err(), "strict types");
        assert!(parse(json!({"reset": 1})).is_err(), "strict types");
    }

    #[test]
    fn workspace_names() {
        assert!(valid_workspace_name("a-b_1"));
        assert!(!valid_workspace_name("-a"));
        assert!(!valid_workspace_name("A"));
        assert!(!valid_workspace_name(&"a".repeat(101)));
        assert!(valid_hex_id(&"ab".repeat(16)));
        assert!(!valid_hex_id(&"AB".repeat(16)));
    }
}
