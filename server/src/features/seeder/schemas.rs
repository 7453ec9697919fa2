//! Request and response bodies of `/seeder/*`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    extract::{Validate, Violations},
    seeder::{config::CHANNELS, RecordCounts},
};

/// Row counts of the seeded tables.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeederStatus {
    pub(crate) stores: i64,
    pub(crate) products: i64,
    pub(crate) calendar: i64,
    pub(crate) sales: i64,
    pub(crate) inventory: i64,
    pub(crate) price_history: i64,
    pub(crate) promotions: i64,
    pub(crate) exogenous_signals: i64,
    pub(crate) sales_returns: i64,
    pub(crate) replenishment_events: i64,
    /// First sales date (only when sales exist).
    pub(crate) date_range_start: Option<NaiveDate>,
    /// Last sales date (only when sales exist).
    pub(crate) date_range_end: Option<NaiveDate>,
    /// Latest `sales_daily.updated_at` (only when sales exist).
    pub(crate) last_updated: Option<DateTime<Utc>>,
}

/// One scenario preset.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScenarioInfo {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) stores: u32,
    pub(crate) products: u32,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: NaiveDate,
}

/// A structural break in demand.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub(crate) struct ChangepointParam {
    pub(crate) date: NaiveDate,
    /// Multiplier on the break day (>= 0).
    #[schema(minimum = 0.0)]
    pub(crate) demand_multiplier: f64,
    /// E-folding days of the decay back to normal (0..3650, default 30).
    #[serde(default = "default_decay")]
    #[schema(minimum = 0, maximum = 3650)]
    pub(crate) decay_days: i64,
}

fn default_decay() -> i64 {
    30
}

/// The seven allow-listed knobs, applied last (they win over every other
/// field). Strict: unknown knobs and wrongly typed values are a 422.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeederOverrides {
    /// 1..100.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub(crate) stores: Option<i64>,
    /// 1..500.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub(crate) products: Option<i64>,
    /// 75..365; start_date := end_date − window_days.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 75, maximum = 365)]
    pub(crate) window_days: Option<i64>,
    /// 0..0.9: share of store × product pairs that never sell.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.9)]
    pub(crate) sparsity: Option<f64>,
    /// 0..0.5: promotion probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub(crate) promotion_intensity: Option<f64>,
    /// 0..0.5: stockout probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub(crate) stockout_intensity: Option<f64>,
    /// 0..0.5: relative noise of daily demand.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub(crate) noise_sigma: Option<f64>,
}

impl SeederOverrides {
    /// `{}` counts as absent.
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn validate_into(&self, v: &mut Violations) {
        if let Some(x) = self.stores {
            v.range("overrides.stores", x, 1, 100);
        }
        if let Some(x) = self.products {
            v.range("overrides.products", x, 1, 500);
        }
        if let Some(x) = self.window_days {
            v.range("overrides.window_days", x, 75, 365);
        }
        if let Some(x) = self.sparsity {
            v.range("overrides.sparsity", x, 0.0, 0.9);
        }
        if let Some(x) = self.promotion_intensity {
            v.range("overrides.promotion_intensity", x, 0.0, 0.5);
        }
        if let Some(x) = self.stockout_intensity {
            v.range("overrides.stockout_intensity", x, 0.0, 0.5);
        }
        if let Some(x) = self.noise_sigma {
            v.range("overrides.noise_sigma", x, 0.0, 0.5);
        }
    }
}

/// What `markdown_trigger` may name.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MarkdownTriggerParam {
    LifecycleDecline,
    StockoutRisk,
}

/// Body of `POST /seeder/generate`. Unknown keys are ignored (except inside
/// `overrides`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub(crate) struct GenerateParams {
    /// Preset name; an unknown name (or "") starts from the defaults.
    #[serde(default = "default_scenario")]
    pub(crate) scenario: String,
    /// >= 0.
    #[serde(default = "default_seed")]
    #[schema(minimum = 0)]
    pub(crate) seed: i64,
    /// 1..100 [default: the preset's, else 10].
    #[schema(minimum = 1, maximum = 100)]
    pub(crate) stores: Option<i64>,
    /// 1..500 [default: the preset's, else 50].
    #[schema(minimum = 1, maximum = 500)]
    pub(crate) products: Option<i64>,
    /// [default: the preset's, else today − 365 days].
    pub(crate) start_date: Option<NaiveDate>,
    /// >= start_date [default: the preset's, else today].
    pub(crate) end_date: Option<NaiveDate>,
    /// 0..1; > 0 replaces the preset's whole sparsity block.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) sparsity: f64,
    /// Report what would be generated, write nothing.
    #[serde(default)]
    pub(crate) dry_run: bool,
    #[serde(default)]
    pub(crate) enable_exogenous: bool,
    #[serde(default)]
    pub(crate) enable_returns: bool,
    #[serde(default)]
    pub(crate) enable_substitution: bool,
    /// 0..1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) yearly_seasonality_amplitude: Option<f64>,
    /// −1..1.
    #[schema(minimum = -1.0, maximum = 1.0)]
    pub(crate) weather_temperature_sensitivity: Option<f64>,
    pub(crate) changepoints: Option<Vec<ChangepointParam>>,
    pub(crate) substitute_groups: Option<Vec<Vec<i64>>>,
    /// 0..10.
    #[schema(minimum = 0.0, maximum = 10.0)]
    pub(crate) substitution_lift_on_stockout: Option<f64>,
    #[serde(default)]
    pub(crate) enable_multichannel: bool,
    /// Keys among in_store, online, click_collect, wholesale; weights >= 0 with a positive sum.
    pub(crate) channel_mix: Option<BTreeMap<String, f64>>,
    /// 0..10.
    #[schema(minimum = 0.0, maximum = 10.0)]
    pub(crate) online_promo_uplift: Option<f64>,
    /// 0..1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) online_substitution_to_instore: Option<f64>,
    #[serde(default)]
    pub(crate) enable_lifecycle: bool,
    /// 0..1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) lifecycle_discontinue_probability: Option<f64>,
    #[serde(default)]
    pub(crate) enable_bundles: bool,
    /// 0..1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) bundle_probability: Option<f64>,
    #[serde(default)]
    pub(crate) enable_markdowns: bool,
    pub(crate) markdown_trigger: Option<MarkdownTriggerParam>,
    #[serde(default)]
    pub(crate) enable_lead_time: bool,
    /// 0..365.
    #[schema(minimum = 0, maximum = 365)]
    pub(crate) mean_lead_time_days: Option<i64>,
    pub(crate) overrides: Option<SeederOverrides>,
}

fn default_scenario() -> String {
    "retail_standard".into()
}

fn default_seed() -> i64 {
    42
}

fn opt_range(v: &mut Violations, field: &str, value: Option<f64>, min: f64, max: f64) {
    if let Some(x) = value {
        v.range(field, x, min, max);
    }
}

impl Validate for GenerateParams {
    fn validate(&self, v: &mut Violations) {
        v.min("seed", self.seed, 0);
        if let Some(x) = self.stores {
            v.range("stores", x, 1, 100);
        }
        if let Some(x) = self.products {
            v.range("products", x, 1, 500);
        }
        if let (Some(start), Some(end)) = (self.start_date, self.end_date) {
            if end < start {
                v.push(
                    "end_date",
                    "end_date must be on or after start_date",
                    "value_error",
                );
            }
        }
        v.range("sparsity", self.sparsity, 0.0, 1.0);
        opt_range(
            v,
            "yearly_seasonality_amplitude",
            self.yearly_seasonality_amplitude,
            0.0,
            1.0,
        );
        opt_range(
            v,
            "weather_temperature_sensitivity",
            self.weather_temperature_sensitivity,
            -1.0,
            1.0,
        );
        opt_range(
            v,
            "substitution_lift_on_stockout",
            self.substitution_lift_on_stockout,
            0.0,
            10.0,
        );
        opt_range(
            v,
            "online_promo_uplift",
            self.online_promo_uplift,
            0.0,
            10.0,
        );
        opt_range(
            v,
            "online_substitution_to_instore",
            self.online_substitution_to_instore,
            0.0,
            1.0,
        );
        opt_range(
            v,
            "lifecycle_discontinue_probability",
            self.lifecycle_discontinue_probability,
            0.0,
            1.0,
        );
        opt_range(v, "bundle_probability", self.bundle_probability, 0.0, 1.0);
        if let Some(x) = self.mean_lead_time_days {
            v.range("mean_lead_time_days", x, 0, 365);
        }
        for (i, cp) in self.changepoints.iter().flatten().enumerate() {
            v.min(
                &format!("changepoints.{i}.demand_multiplier"),
                cp.demand_multiplier,
                0.0,
            );
            v.range(
                &format!("changepoints.{i}.decay_days"),
                cp.decay_days,
                0,
                3650,
            );
        }
        if let Some(mix) = &self.channel_mix {
            if mix.is_empty() {
                v.push(
                    "channel_mix",
                    "channel_mix must not be empty",
                    "value_error",
                );
            }
            for (key, weight) in mix {
                if !CHANNELS.contains(&key.as_str()) {
                    v.push(
                        &format!("channel_mix.{key}"),
                        format!("Unknown channel; use one of: {}", CHANNELS.join(", ")),
                        "value_error",
                    );
                }
                v.min(&format!("channel_mix.{key}"), *weight, 0.0);
            }
            if !mix.is_empty() && mix.values().sum::<f64>() <= 0.0 {
                v.push(
                    "channel_mix",
                    "channel_mix weights must sum to more than 0",
                    "value_error",
                );
            }
        }
        if let Some(overrides) = &self.overrides {
            overrides.validate_into(v);
        }
    }
}

/// Body of `POST /seeder/generate` and `/seeder/append` responses.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GenerateResult {
    pub(crate) success: bool,
    pub(crate) records_created: RecordCounts,
    /// Wall time, 2 decimals.
    pub(crate) duration_seconds: f64,
    pub(crate) message: String,
    pub(crate) seed: u64,
    /// The non-empty overrides that were applied (generate only), else null.
    pub(crate) overrides_applied: Option<SeederOverrides>,
}

/// Body of `POST /seeder/append`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub(crate) struct AppendParams {
    pub(crate) start_date: NaiveDate,
    /// >= start_date.
    pub(crate) end_date: NaiveDate,
    /// >= 0.
    #[serde(default = "default_append_seed")]
    #[schema(minimum = 0)]
    pub(crate) seed: i64,
}

fn default_append_seed() -> i64 {
    43
}

impl Validate for AppendParams {
    fn validate(&self, v: &mut Violations) {
        v.min("seed", self.seed, 0);
        if self.end_date < self.start_date {
            v.push(
                "end_date",
                "end_date must be on or after start_date",
                "value_error",
            );
        }
        if (self.end_date - self.start_date).num_days() > 3_660 {
            v.push(
                "end_date",
                "The window may span at most 3660 days",
                "value_error",
            );
        }
    }
}

/// Which tables `DELETE /seeder/data` touches.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DeleteScopeParam {
    #[default]
    All,
    Facts,
    Dimensions,
}

/// Body of `DELETE /seeder/data` (optional; `{}` and no body mean scope all).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub(crate) struct DeleteParams {
    #[serde(default)]
    pub(crate) scope: DeleteScopeParam,
    #[serde(default)]
    pub(crate) dry_run: bool,
}

impl Validate for DeleteParams {}

/// Result of a delete.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeleteResult {
    pub(crate) success: bool,
    /// Rows per table name.
    pub(crate) records_deleted: BTreeMap<String, u64>,
    pub(crate) message: String,
    pub(crate) dry_run: bool,
}

/// One integrity check.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerifyCheck {
    pub(crate) name: String,
    /// passed | warning | failed.
    pub(crate) status: String,
    pub(crate) message: String,
    pub(crate) details: Option<Vec<String>>,
}

/// Result of `POST /seeder/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerifyResult {
    pub(crate) passed: bool,
    pub(crate) checks: Vec<VerifyCheck>,
    pub(crate) total_checks: usize,
    pub(crate) passed_count: usize,
    pub(crate) warning_count: usize,
    pub(crate) failed_count: usize,
}

/// Query of `GET /seeder/exogenous`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExogenousQuery {
    /// Exact signal name (`weather_temp_c`, `macro_index`, `event_flag`).
    #[param(min_length = 1, max_length = 50)]
    pub(crate) signal_name: String,
    /// First day (inclusive).
    pub(crate) start_date: NaiveDate,
    /// Last day (inclusive), at most 1095 days after start_date.
    pub(crate) end_date: NaiveDate,
    /// Rows of this store plus the global rows.
    pub(crate) store_id: Option<i64>,
}

impl Validate for ExogenousQuery {
    fn validate(&self, v: &mut Violations) {
        v.length("signal_name", &self.signal_name, 1, 50);
    }
}

/// One exogenous value.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExogenousRecord {
    pub(crate) date: NaiveDate,
    pub(crate) signal_name: String,
    pub(crate) store_id: Option<i64>,
    pub(crate) is_global: bool,
    pub(crate) value: Option<f64>,
}

/// Result of `GET /seeder/exogenous`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExogenousSignalResponse {
    pub(crate) signal_name: String,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: NaiveDate,
    pub(crate) store_id: Option<i64>,
    pub(crate) records: Vec<ExogenousRecord>,
    pub(crate) total: usize,
}

/// Result of `GET /seeder/channels`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChannelsResponse {
    pub(crate) channels: Vec<String>,
    pub(crate) total: usize,
}

/// Body of `POST /seeder/phase2-enrichment` (strict JSON types; `{}` is valid).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub(crate) struct Phase2EnrichmentRequest {
    /// >= 0.
    #[serde(default = "default_seed")]
    #[schema(minimum = 0)]
    pub(crate) seed: i64,
    /// 0..1.
    #[serde(default = "default_returns_probability")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) returns_probability: f64,
    /// 0..1.
    #[serde(default = "default_discontinue_probability")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub(crate) discontinue_probability: f64,
}

fn default_returns_probability() -> f64 {
    0.02
}

fn default_discontinue_probability() -> f64 {
    0.10
}

impl Validate for Phase2EnrichmentRequest {
    fn validate(&self, v: &mut Violations) {
        v.min("seed", self.seed, 0);
        v.range("returns_probability", self.returns_probability, 0.0, 1.0);
        v.range(
            "discontinue_probability",
            self.discontinue_probability,
            0.0,
            1.0,
        );
    }
}

/// Result of phase-2 enrichment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Phase2EnrichmentResponse {
    pub(crate) success: bool,
    /// product (rows updated), replenishment_event, exogenous_signal, sales_returns (rows written).
    pub(crate) records_created: BTreeMap<String, u64>,
    /// Rows not written because they were already present, by table.
    pub(crate) records_skipped: BTreeMap<String, u64>,
    pub(crate) duration_ms: f64,
}
