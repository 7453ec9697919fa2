//! Request and response bodies of `/scenarios/*` (spec §7.1, §7.5, §7.7).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{Validate, Violations};

/// Largest horizon a scenario simulates.
pub const MAX_HORIZON: i64 = 90;
/// Most runs a portfolio simulation takes.
pub const MAX_PORTFOLIO_RUNS: usize = 500;
/// Fewest and most plans a comparison takes.
pub const COMPARE_RANGE: (usize, usize) = (2, 5);

/// A price change over a window (inclusive; a reversed window is read the
/// other way round).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceAssumption {
    /// Fractional change in [−0.9, 5.0] (−0.15 = 15 % cheaper).
    #[schema(minimum = -0.9, maximum = 5.0)]
    pub change_pct: f64,
    /// First day of the window.
    pub start_date: NaiveDate,
    /// Last day of the window (inclusive).
    pub end_date: NaiveDate,
}

/// Promotion kinds a scenario can posit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    /// Percentage off.
    PctOff,
    /// Buy one get one.
    Bogo,
    /// Bundle offer.
    Bundle,
    /// Markdown.
    Markdown,
}

/// A promotion over a window (inclusive; reversed windows are swapped).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionAssumption {
    /// Kind of promotion.
    pub kind: PromotionKind,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
}

/// Extra holidays.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayAssumption {
    /// At least one date.
    #[schema(min_items = 1)]
    pub dates: Vec<NaiveDate>,
}

/// Units on hand (drives only the coverage verdict).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryAssumption {
    /// Units on hand (≥ 0).
    #[schema(minimum = 0)]
    pub on_hand_units: i64,
}

/// Product lifecycle stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    /// Just launched.
    Launch,
    /// Growing.
    Growth,
    /// Mature.
    Maturity,
    /// Declining.
    Decline,
}

/// A lifecycle stage applied to every horizon day.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleAssumption {
    /// Stage.
    pub stage: LifecycleStage,
}

/// What a scenario posits; every member optional (empty = no change).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioAssumptions {
    /// Price change.
    #[serde(default)]
    pub price: Option<PriceAssumption>,
    /// Promotion.
    #[serde(default)]
    pub promotion: Option<PromotionAssumption>,
    /// Extra holidays.
    #[serde(default)]
    pub holiday: Option<HolidayAssumption>,
    /// Units on hand.
    #[serde(default)]
    pub inventory: Option<InventoryAssumption>,
    /// Lifecycle stage.
    #[serde(default)]
    pub lifecycle: Option<LifecycleAssumption>,
}

impl ScenarioAssumptions {
    fn check(&self, v: &mut Violations, prefix: &str) {
        if let Some(price) = &self.price {
            let field = format!("{prefix}price.change_pct");
            if !price.change_pct.is_finite() {
                v.push(&field, "Input should be a finite number", "finite_number");
            } else {
                v.range(&field, price.change_pct, -0.9, 5.0);
            }
        }
        if let Some(holiday) = &self.holiday {
            if holiday.dates.is_empty() {
                v.push(
                    &format!("{prefix}holiday.dates"),
                    "List should have at least 1 item after validation, not 0",
                    "too_short",
                );
            } else if holiday.dates.len() > 366 {
                v.push(
                    &format!("{prefix}holiday.dates"),
                    "List should have at most 366 items",
                    "too_long",
                );
            }
        }
        if let Some(inventory) = &self.inventory {
            v.range(
                &format!("{prefix}inventory.on_hand_units"),
                inventory.on_hand_units,
                0,
                i64::from(i32::MAX),
            );
        }
    }
}

/// How a scenario is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioMethod {
    /// Fixed multipliers of §7.2 on the model's forecast (target-only
    /// models).
    Heuristic,
    /// The model itself re-forecasts on a future frame carrying the
    /// assumptions (feature-aware models).
    ModelExogenous,
    /// The heuristic multipliers with the series' own price elasticity
    /// learned from its history (target-only models).
    Elasticity,
}

impl ScenarioMethod {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Heuristic => "heuristic",
            Self::ModelExogenous => "model_exogenous",
            Self::Elasticity => "elasticity",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "heuristic" => Self::Heuristic,
            "model_exogenous" => Self::ModelExogenous,
            "elasticity" => Self::Elasticity,
            _ => return None,
        })
    }

    /// The fixed caveat reported with each method.
    pub fn disclaimer(self) -> &'static str {
        match self {
            Self::Heuristic => {
                "Deterministic planning signal from fixed multipliers, not a causal model; \
                 use it to compare options, not as a demand estimate."
            }
            Self::ModelExogenous => {
                "Model estimate under uncertainty: the model re-forecast with the assumed inputs; \
                 effects outside its training range are extrapolations."
            }
            Self::Elasticity => {
                "Planning signal from multipliers with a price elasticity estimated on this \
                 series' history (an association, not a causal effect)."
            }
        }
    }
}

/// `POST /scenarios/simulate` body.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// Model artifact: its 12-hex artifact key or its path inside the
    /// artifacts directory. Give this or `run_ids`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1024)]
    pub run_id: Option<String>,
    /// A portfolio: up to 500 artifact keys, simulated in parallel under the
    /// same assumptions. Give this or `run_id`.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 500)]
    pub run_ids: Option<Vec<String>>,
    /// Days to simulate (1–90).
    #[schema(minimum = 1, maximum = 90)]
    pub horizon: i64,
    /// Assumptions (default none).
    #[serde(default)]
    pub assumptions: ScenarioAssumptions,
    /// Optional label (≤ 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// `heuristic` (default for target-only models), `model_exogenous`
    /// (default and only choice for feature-aware models) or `elasticity`
    /// (target-only models, learned price elasticity).
    #[serde(default)]
    pub method: Option<ScenarioMethod>,
}

fn check_run_id(v: &mut Violations, field: &str, run_id: &str) {
    v.length(field, run_id, 1, 1024);
}

impl Validate for SimulateRequest {
    fn validate(&self, v: &mut Violations) {
        match (&self.run_id, &self.run_ids) {
            (Some(run_id), None) => check_run_id(v, "run_id", run_id),
            (None, Some(run_ids)) => {
                if run_ids.is_empty() || run_ids.len() > MAX_PORTFOLIO_RUNS {
                    v.push(
                        "run_ids",
                        format!("run_ids must hold 1 to {MAX_PORTFOLIO_RUNS} artifact keys"),
                        "value_error",
                    );
                }
                for (i, run_id) in run_ids.iter().enumerate() {
                    check_run_id(v, &format!("run_ids.{i}"), run_id);
                }
            }
            (Some(_), Some(_)) => v.push(
                "run_ids",
                "Give either run_id or run_ids, not both",
                "value_error",
            ),
            (None, None) => v.push("run_id", "Field required", "missing"),
        }
        v.range("horizon", self.horizon, 1, MAX_HORIZON);
        if let Some(name) = &self.name {
            v.length("name", name, 0, 200);
        }
        self.assumptions.check(v, "assumptions.");
    }
}

/// `POST /scenarios` body: a simulation to run and save.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioCreate {
    /// Name (1–200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Model artifact (12-hex key or path inside the artifacts directory).
    #[schema(min_length = 1, max_length = 1024)]
    pub run_id: String,
    /// Days to simulate (1–90).
    #[schema(minimum = 1, maximum = 90)]
    pub horizon: i64,
    /// Assumptions (default none).
    #[serde(default)]
    pub assumptions: ScenarioAssumptions,
    /// Tags (≤ 20, each 1–50 characters).
    #[serde(default)]
    #[schema(schema_with = tag_list_schema)]
    pub tags: Vec<String>,
    /// Id of the plan this one was cloned from (≤ 32 characters).
    #[serde(default)]
    #[schema(max_length = 32)]
    pub cloned_from: Option<String>,
    /// Method, as for simulate.
    #[serde(default)]
    pub method: Option<ScenarioMethod>,
}

impl Validate for ScenarioCreate {
    fn validate(&self, v: &mut Violations) {
        v.length("name", &self.name, 1, 200);
        check_run_id(v, "run_id", &self.run_id);
        v.range("horizon", self.horizon, 1, MAX_HORIZON);
        if self.tags.len() > 20 {
            v.push("tags", "List should have at most 20 items", "too_long");
        }
        for (i, tag) in self.tags.iter().enumerate() {
            v.length(&format!("tags.{i}"), tag, 1, 50);
        }
        if let Some(cloned_from) = &self.cloned_from {
            v.length("cloned_from", cloned_from, 1, 32);
        }
        self.assumptions.check(v, "assumptions.");
    }
}

/// One simulated day.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct ScenarioPoint {
    /// Horizon date.
    pub date: NaiveDate,
    /// The model's forecast without assumptions.
    pub baseline: f64,
    /// The forecast under the assumptions (never below 0).
    pub scenario: f64,
    /// `scenario − baseline`.
    pub delta: f64,
    /// Multiplier applied (heuristic) or `scenario / baseline`
    /// (model_exogenous; 1.0 when the baseline is 0).
    pub applied_factor: f64,
}

/// Coverage of the scenario's demand by the assumed stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoverageVerdict {
    /// No inventory assumption.
    Unknown,
    /// Demand under 90 % of the stock.
    Covered,
    /// Demand within ±10 % of the stock (or no stock and no demand).
    AtRisk,
    /// Demand above 110 % of the stock.
    Stockout,
}

/// How the price elasticity of an `elasticity` scenario was obtained.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct ElasticityEstimate {
    /// Elasticity used in the price factor.
    pub elasticity: f64,
    /// `learned` (estimated on the series) or `fallback` (the fixed −1.2).
    pub source: String,
    /// The estimate when one was made (even if it was not used).
    pub estimate: Option<f64>,
    /// Its standard error.
    pub standard_error: Option<f64>,
    /// Distinct prices seen on the days used.
    pub price_levels: usize,
    /// Days used (sales > 0, price known).
    pub observations: usize,
    /// Why the fallback was used (null when learned).
    pub reason: Option<String>,
}

/// `ScenarioComparison` (§7.7): baseline vs scenario for one model.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct ScenarioComparison {
    /// Store of the model's series.
    pub store_id: i64,
    /// Product of the model's series.
    pub product_id: i64,
    /// Model type of the artifact.
    pub model_type: String,
    /// Artifact key of the model.
    pub run_id: String,
    /// Days simulated.
    pub horizon: usize,
    /// One entry per horizon day.
    pub points: Vec<ScenarioPoint>,
    /// Σ baseline.
    pub baseline_total_units: f64,
    /// Σ scenario.
    pub scenario_total_units: f64,
    /// scenario − baseline units.
    pub units_delta: f64,
    /// `units_delta / baseline_total · 100` (0 when the baseline total ≤ 0).
    pub units_delta_pct: f64,
    /// Unit price of the series' most recent sale (1.0 when none).
    pub unit_price_used: f64,
    /// Baseline units × unit price.
    pub baseline_revenue: f64,
    /// Scenario units × unit price.
    pub scenario_revenue: f64,
    /// scenario − baseline revenue.
    pub revenue_delta: f64,
    /// Stock coverage of the scenario demand.
    pub coverage_verdict: CoverageVerdict,
    /// Method used.
    pub method: ScenarioMethod,
    /// Fixed caveat of the method.
    pub disclaimer: String,
    /// The learned elasticity (method `elasticity` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elasticity: Option<ElasticityEstimate>,
    /// Optional label from the request.
    #[serde(default)]
    pub name: Option<String>,
    /// When it was computed (UTC).
    pub generated_at: DateTime<Utc>,
}

/// Provenance of a saved plan (written by the agents slice).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct Provenance {
    /// `user` or `agent`.
    pub source: String,
    /// Agent session that proposed the plan.
    pub agent_session_id: Option<String>,
    /// Who approved or rejected it.
    pub approved_by: Option<String>,
    /// When the decision was given.
    pub approved_at: Option<DateTime<Utc>>,
    /// `approved` or `rejected`.
    pub approval_decision: Option<String>,
}

/// `ScenarioPlanResponse`: a saved plan with its snapshot.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ScenarioPlanResponse {
    /// 32-hex id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Store.
    pub store_id: i64,
    /// Product.
    pub product_id: i64,
    /// Artifact key of the model.
    pub run_id: String,
    /// Days simulated.
    pub horizon: i64,
    /// Method used.
    pub method: ScenarioMethod,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// The request's assumptions.
    pub assumptions: ScenarioAssumptions,
    /// The comparison computed when it was saved.
    pub comparison: ScenarioComparison,
    /// Tags.
    pub tags: Vec<String>,
    /// Plan it was cloned from.
    pub cloned_from: Option<String>,
    /// Provenance.
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// One row of `GET /scenarios`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ScenarioListItem {
    /// 32-hex id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Store.
    pub store_id: i64,
    /// Product.
    pub product_id: i64,
    /// Days simulated.
    pub horizon: i64,
    /// Units delta from the snapshot.
    pub units_delta: f64,
    /// Revenue delta from the snapshot.
    pub revenue_delta: f64,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Tags.
    pub tags: Vec<String>,
    /// Provenance.
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `GET /scenarios` response.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ScenarioListResponse {
    /// The page, newest first.
    pub scenarios: Vec<ScenarioListItem>,
    /// Plans matching the filter.
    pub total: i64,
}

/// Query of `GET /scenarios` (`tags` repeatable: a plan must carry every
/// tag given).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScenarioListQuery {
    /// Page size (1–100, default 20).
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Rows to skip (≥ 0, default 0).
    #[param(default = 0, minimum = 0, maximum = 1_000_000)]
    pub offset: Option<i64>,
    /// Required tags (repeat the parameter for several; at most 20, each
    /// 1–50 characters).
    #[param(style = Form, explode, schema_with = tag_list_schema)]
    pub tags: Option<Vec<String>>,
}

/// A list of tags (a plan's, or a filter): up to 20 tags of 1–50
/// characters.
fn tag_list_schema() -> utoipa::openapi::schema::Schema {
    string_list_schema(50, 0, 20, false)
}

/// `scenario_ids` of a comparison: 2–5 distinct ids of 1–32 characters.
fn compared_ids_schema() -> utoipa::openapi::schema::Schema {
    let (min, max) = COMPARE_RANGE;
    string_list_schema(32, min, max, true)
}

/// An array of `min_items..=max_items` strings of 1..=`max_length`
/// characters, distinct when `unique`.
fn string_list_schema(
    max_length: usize,
    min_items: usize,
    max_items: usize,
    unique: bool,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(max_length)),
        )
        .min_items((min_items > 0).then_some(min_items))
        .max_items(Some(max_items))
        .unique_items(unique)
        .build()
        .into()
}

/// What to rank compared plans by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Revenue delta (default).
    #[default]
    RevenueDelta,
    /// Units delta.
    UnitsDelta,
}

/// `POST /scenarios/compare` body.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// 2–5 distinct plan ids (each 1–32 characters).
    #[schema(schema_with = compared_ids_schema)]
    pub scenario_ids: Vec<String>,
    /// Ranking metric (default `revenue_delta`).
    #[serde(default)]
    pub rank_by: RankBy,
}

impl Validate for CompareRequest {
    fn validate(&self, v: &mut Violations) {
        let (min, max) = COMPARE_RANGE;
        if self.scenario_ids.len() < min || self.scenario_ids.len() > max {
            v.push(
                "scenario_ids",
                format!("scenario_ids must hold {min} to {max} ids"),
                "value_error",
            );
        }
        for (i, id) in self.scenario_ids.iter().enumerate() {
            v.length(&format!("scenario_ids.{i}"), id, 1, 32);
            if self.scenario_ids[..i].contains(id) {
                v.push(
                    &format!("scenario_ids.{i}"),
                    format!("duplicate scenario id '{id}'"),
                    "value_error",
                );
            }
        }
    }
}

/// One ranked plan of a comparison.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RankedScenario {
    /// Plan id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Units delta.
    pub units_delta: f64,
    /// Revenue delta.
    pub revenue_delta: f64,
    /// Coverage verdict.
    pub coverage_verdict: CoverageVerdict,
    /// 1 = best by `rank_by`.
    pub rank: usize,
}

/// `MultiScenarioComparison`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct MultiScenarioComparison {
    /// Baseline units of the first requested plan.
    pub baseline_total_units: f64,
    /// Baseline revenue of the first requested plan.
    pub baseline_revenue: f64,
    /// Ranking metric.
    pub rank_by: RankBy,
    /// Plans sorted by the metric, descending (ties keep request order).
    pub scenarios: Vec<RankedScenario>,
    /// One object per date: `date`, `baseline` (first plan) and one member
    /// per plan id holding its scenario value.
    #[schema(value_type = Vec<Object>)]
    pub chart_series: Vec<Map<String, Value>>,
}

/// Per-run row of a portfolio simulation.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PortfolioRun {
    /// The run id as given.
    pub run_id: String,
    /// The comparison, when the run could be simulated.
    pub comparison: Option<ScenarioComparison>,
    /// Why not (problem detail), otherwise null.
    pub error: Option<String>,
}

/// Portfolio totals.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PortfolioTotals {
    /// Runs simulated.
    pub runs: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Σ baseline units.
    pub baseline_total_units: f64,
    /// Σ scenario units.
    pub scenario_total_units: f64,
    /// Σ units delta.
    pub units_delta: f64,
    /// Σ baseline revenue.
    pub baseline_revenue: f64,
    /// Σ scenario revenue.
    pub scenario_revenue: f64,
    /// Σ revenue delta.
    pub revenue_delta: f64,
    /// Series whose verdict is `at_risk`.
    pub series_at_risk: usize,
    /// Series whose verdict is `stockout`.
    pub series_stockout: usize,
}

/// `POST /scenarios/simulate` response with `run_ids`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PortfolioComparison {
    /// One entry per requested run, in request order.
    pub runs: Vec<PortfolioRun>,
    /// Totals over the runs that succeeded.
    pub totals: PortfolioTotals,
    /// Days simulated.
    pub horizon: usize,
    /// When it was computed (UTC).
    pub generated_at: DateTime<Utc>,
}

/// `POST /scenarios/simulate` response: one comparison (`run_id`) or a
/// portfolio (`run_ids`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SimulateResponse {
    /// One run.
    Single(Box<ScenarioComparison>),
    /// Many runs.
    Portfolio(PortfolioComparison),
}
