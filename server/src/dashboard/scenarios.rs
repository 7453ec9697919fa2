//! Page 7, Scenarios (`/ui/scenarios`): train a model on a series (a train
//! job), posit assumptions (price change, promotion, holidays, stock,
//! lifecycle), see the baseline against the scenario, save the plan, and
//! rank up to five saved plans side by side.
//!
//! The page builds one `POST /scenarios/simulate` body in the browser; the
//! simulation fragment takes that body as its `request` parameter and runs
//! it through the scenarios service, so the rules live in one place.
//! Saving and deleting call the JSON API.

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use serde::Deserialize;

use super::{
    chart::{Chart, Colour, Series, Style, MODEL_COLOURS},
    nav::{self, NavItem},
    page::{num, render, Layout},
};
use crate::{
    extract::{Query, Validate, Violations},
    features::scenarios::{
        schemas::{
            CompareRequest, CoverageVerdict, MultiScenarioComparison, RankBy, ScenarioComparison,
            ScenarioListItem, ScenarioListQuery, SimulateRequest, SimulateResponse, COMPARE_RANGE,
        },
        service,
    },
    models::{catalog, ModelInfo},
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::SCENARIOS;

/// Saved plans listed per page.
const PLANS_PER_PAGE: i64 = 20;

/// The page and its fragments.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/scenarios", get(page))
        .route("/ui/scenarios/simulation", get(simulation))
        .route("/ui/scenarios/plan", get(plan))
        .route("/ui/scenarios/plans", get(plans))
        .route("/ui/scenarios/compare", get(compare))
}

#[derive(Template)]
#[template(path = "scenarios.html")]
struct ScenariosPage {
    layout: Layout,
    models: Vec<ModelInfo>,
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    render(&ScenariosPage {
        layout: Layout::of(NAV),
        models: catalog(&state.settings),
    })
}

/// `?request=`: a `POST /scenarios/simulate` body as JSON (one `run_id`).
#[derive(Debug, Deserialize)]
struct SimulationQuery {
    request: String,
}

impl Validate for SimulationQuery {
    fn validate(&self, v: &mut Violations) {
        v.length("request", &self.request, 2, 16_384);
    }
}

#[derive(Template)]
#[template(path = "scenarios_comparison.html")]
struct ComparisonFragment {
    comparison: ScenarioComparison,
    /// The saved plan shown, when it is one.
    scenario_id: Option<String>,
    charts: Vec<Chart>,
}

impl ComparisonFragment {
    fn new(comparison: ScenarioComparison, scenario_id: Option<String>) -> Self {
        let charts = vec![comparison_chart(&comparison)];
        Self {
            comparison,
            scenario_id,
            charts,
        }
    }

    fn value(&self, value: &f64) -> String {
        num(Some(*value), 2)
    }

    fn verdict(&self) -> &'static str {
        verdict(self.comparison.coverage_verdict)
    }

    fn method(&self) -> &'static str {
        self.comparison.method.as_str()
    }
}

/// The wire name of a coverage verdict.
fn verdict(verdict: CoverageVerdict) -> &'static str {
    match verdict {
        CoverageVerdict::Unknown => "unknown",
        CoverageVerdict::Covered => "covered",
        CoverageVerdict::AtRisk => "at_risk",
        CoverageVerdict::Stockout => "stockout",
    }
}

/// `GET /ui/scenarios/simulation?request=`: baseline against scenario for
/// one model, as `POST /scenarios/simulate` computes it.
async fn simulation(
    State(state): State<AppState>,
    Query(query): Query<SimulationQuery>,
) -> Result<Html<String>, Problem> {
    let request: SimulateRequest = serde_json::from_str(&query.request).map_err(|e| {
        Problem::invalid_field(
            "request",
            format!("Not a simulation request: {e}"),
            "json_invalid",
        )
    })?;
    if request.run_ids.is_some() {
        return Err(Problem::invalid_field(
            "request.run_ids",
            "The page simulates one model at a time: give run_id",
            "unexpected",
        ));
    }
    match service::simulate(&state, request).await? {
        SimulateResponse::Single(comparison) => render(&ComparisonFragment::new(*comparison, None)),
        SimulateResponse::Portfolio(_) => Err(Problem::internal(
            "a single-run simulation answered with a portfolio",
        )),
    }
}

/// `?scenario_id=` of a saved plan.
#[derive(Debug, Deserialize)]
struct PlanRef {
    scenario_id: String,
}

impl Validate for PlanRef {
    fn validate(&self, v: &mut Violations) {
        v.length("scenario_id", &self.scenario_id, 1, 32);
    }
}

/// `GET /ui/scenarios/plan?scenario_id=`: a saved plan's snapshot.
async fn plan(
    State(state): State<AppState>,
    Query(PlanRef { scenario_id }): Query<PlanRef>,
) -> Result<Html<String>, Problem> {
    let plan = service::get(&state, &scenario_id).await?;
    render(&ComparisonFragment::new(plan.comparison, Some(scenario_id)))
}

/// Filters of the saved-plans table.
#[derive(Debug, Deserialize)]
struct PlansQuery {
    /// Comma-separated tags a plan must all carry.
    #[serde(default)]
    tags: Option<String>,
    #[serde(default)]
    offset: Option<i64>,
}

impl PlansQuery {
    fn tags(&self) -> Option<Vec<String>> {
        let tags: Vec<String> = self
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect();
        (!tags.is_empty()).then_some(tags)
    }
}

impl Validate for PlansQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(tags) = self.tags() {
            if tags.len() > 20 {
                v.push("tags", "At most 20 tags", "too_long");
            }
            for tag in &tags {
                v.length("tags", tag, 1, 50);
            }
        }
        if let Some(offset) = self.offset {
            v.range("offset", offset, 0, 1_000_000);
        }
    }
}

#[derive(Template)]
#[template(path = "scenarios_plans.html")]
struct PlansFragment {
    plans: Vec<ScenarioListItem>,
    total: i64,
    tags: String,
    previous: Option<i64>,
    next: Option<i64>,
}

impl PlansFragment {
    fn value(&self, value: &f64) -> String {
        num(Some(*value), 2)
    }

    fn created(&self, plan: &ScenarioListItem) -> String {
        plan.created_at.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// `GET /ui/scenarios/plans?tags=&offset=`: saved plans, newest first.
async fn plans(
    State(state): State<AppState>,
    Query(query): Query<PlansQuery>,
) -> Result<Html<String>, Problem> {
    let offset = query.offset.unwrap_or(0);
    let list = service::list(
        &state,
        &ScenarioListQuery {
            limit: Some(PLANS_PER_PAGE),
            offset: Some(offset),
            tags: query.tags(),
        },
    )
    .await?;
    let shown = offset + list.scenarios.len() as i64;
    render(&PlansFragment {
        previous: (offset > 0).then(|| (offset - PLANS_PER_PAGE).max(0)),
        next: (shown < list.total).then_some(shown),
        plans: list.scenarios,
        total: list.total,
        tags: query.tags.unwrap_or_default(),
    })
}

/// `?ids=a,b,c&rank_by=` of a comparison.
#[derive(Debug, Deserialize)]
struct CompareQuery {
    ids: String,
    #[serde(default)]
    rank_by: RankBy,
}

impl CompareQuery {
    fn ids(&self) -> Vec<String> {
        self.ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Validate for CompareQuery {
    fn validate(&self, v: &mut Violations) {
        let (min, max) = COMPARE_RANGE;
        let count = self.ids().len();
        if count < min || count > max {
            v.push(
                "ids",
                format!("Select {min} to {max} saved plans to compare"),
                "value_error",
            );
        }
    }
}

#[derive(Template)]
#[template(path = "scenarios_compare.html")]
struct CompareFragment {
    comparison: MultiScenarioComparison,
    charts: Vec<Chart>,
}

impl CompareFragment {
    fn value(&self, value: &f64) -> String {
        num(Some(*value), 2)
    }

    fn verdict(&self, value: &CoverageVerdict) -> &'static str {
        verdict(*value)
    }
}

/// `GET /ui/scenarios/compare?ids=&rank_by=`: saved plans ranked, with
/// their scenario lines against the first plan's baseline.
async fn compare(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> Result<Html<String>, Problem> {
    let comparison = service::compare(
        &state,
        CompareRequest {
            scenario_ids: query.ids(),
            rank_by: query.rank_by,
        },
    )
    .await?;
    let charts = vec![compare_chart(&comparison)];
    render(&CompareFragment { comparison, charts })
}

/// Baseline and scenario per horizon day.
fn comparison_chart(comparison: &ScenarioComparison) -> Chart {
    let mut chart = Chart::dates(
        "scenario-chart",
        format!(
            "Baseline vs scenario, {} on store {} × product {}",
            comparison.model_type, comparison.store_id, comparison.product_id
        ),
        "units",
    );
    chart.x = comparison
        .points
        .iter()
        .map(|p| p.date.to_string())
        .collect();
    chart.push(Series::new(
        "baseline",
        comparison.points.iter().map(|p| Some(p.baseline)).collect(),
        Style::Line,
        Colour::Blue,
    ));
    chart.push(Series::new(
        "scenario",
        comparison.points.iter().map(|p| Some(p.scenario)).collect(),
        Style::Dashed,
        Colour::Vermillion,
    ));
    chart
}

/// The first plan's baseline and each plan's scenario line, from the
/// comparison's `chart_series`.
fn compare_chart(comparison: &MultiScenarioComparison) -> Chart {
    let mut chart = Chart::dates("scenario-compare-chart", "Saved plans compared", "units");
    let rows = &comparison.chart_series;
    chart.x = rows
        .iter()
        .map(|row| {
            row.get("date")
                .and_then(|d| d.as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let column = |key: &str| -> Vec<Option<f64>> {
        rows.iter()
            .map(|row| row.get(key).and_then(serde_json::Value::as_f64))
            .collect()
    };
    chart.push(Series::new(
        "baseline",
        column("baseline"),
        Style::Line,
        Colour::Blue,
    ));
    for (i, ranked) in comparison.scenarios.iter().enumerate() {
        chart.push(Series::new(
            ranked.name.clone(),
            column(&ranked.scenario_id),
            Style::Dashed,
            MODEL_COLOURS[i % MODEL_COLOURS.len()],
        ));
    }
    chart
}
