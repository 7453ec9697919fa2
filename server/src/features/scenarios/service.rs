//! Scenario plans: simulate, save (simulation + snapshot), list with tag
//! filters, read back without recomputation, compare, delete.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Map, Value};

use super::{
    repo::{self, NewPlan, PlanRow},
    schemas::{
        CompareRequest, MultiScenarioComparison, Provenance, RankBy, RankedScenario,
        ScenarioAssumptions, ScenarioComparison, ScenarioCreate, ScenarioListItem,
        ScenarioListQuery, ScenarioListResponse, ScenarioMethod, ScenarioPlanResponse,
        SimulateRequest, SimulateResponse,
    },
    simulate::{self, Scenario},
};
use crate::{extract::validate, problem::Problem, state::AppState};

fn horizon(value: i64) -> usize {
    usize::try_from(value).unwrap_or(1)
}

/// `POST /scenarios/simulate`: one run or a portfolio.
pub async fn simulate(
    state: &AppState,
    request: SimulateRequest,
) -> Result<SimulateResponse, Problem> {
    validate(&request, None)?;
    let scenario = Scenario {
        horizon: horizon(request.horizon),
        assumptions: request.assumptions,
        method: request.method,
        name: request.name,
    };
    match (request.run_id, request.run_ids) {
        (Some(run_id), _) => Ok(SimulateResponse::Single(Box::new(
            simulate::simulate(state, &run_id, &scenario).await?,
        ))),
        (None, Some(run_ids)) => Ok(SimulateResponse::Portfolio(
            simulate::simulate_many(state, &run_ids, &scenario).await?,
        )),
        (None, None) => Err(Problem::invalid_field(
            "run_id",
            "Field required",
            "missing",
        )),
    }
}

/// `POST /scenarios`: runs the simulation and stores it with its snapshot.
pub async fn create(
    state: &AppState,
    request: ScenarioCreate,
) -> Result<ScenarioPlanResponse, Problem> {
    validate(&request, None)?;
    let scenario = Scenario {
        horizon: horizon(request.horizon),
        assumptions: request.assumptions.clone(),
        method: request.method,
        name: Some(request.name.clone()),
    };
    let comparison = simulate::simulate(state, &request.run_id, &scenario).await?;
    let scenario_id = uuid::Uuid::new_v4().simple().to_string();
    let assumptions = serde_json::to_value(&request.assumptions).map_err(Problem::internal)?;
    let snapshot = serde_json::to_value(&comparison).map_err(Problem::internal)?;
    let created_at = Utc::now();
    repo::insert(
        &state.db,
        &NewPlan {
            scenario_id: &scenario_id,
            name: &request.name,
            key: forecastlab_core::SeriesKey {
                store_id: comparison.store_id,
                product_id: comparison.product_id,
            },
            run_id: &comparison.run_id,
            horizon: request.horizon,
            assumptions: &assumptions,
            comparison: &snapshot,
            method: comparison.method.as_str(),
            tags: &request.tags,
            cloned_from: request.cloned_from.as_deref(),
            created_at,
        },
    )
    .await?;
    get(state, &scenario_id).await
}

fn not_found(scenario_id: &str) -> Problem {
    Problem::not_found(format!("Scenario plan not found: {scenario_id}"))
}

fn corrupt(scenario_id: &str, what: &str, error: impl std::fmt::Display) -> Problem {
    Problem::internal(format!(
        "stored scenario plan {scenario_id} has an unreadable {what}: {error}"
    ))
}

fn provenance(row: &PlanRow) -> Provenance {
    Provenance {
        source: row.source.clone(),
        agent_session_id: row.agent_session_id.clone(),
        approved_by: row.approved_by.clone(),
        approved_at: row.approved_at,
        approval_decision: row.approval_decision.clone(),
    }
}

fn plan_tags(row: &PlanRow) -> Vec<String> {
    row.tags
        .0
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Re-validates a stored row into the response (no recomputation).
fn plan_response(row: PlanRow) -> Result<ScenarioPlanResponse, Problem> {
    let comparison: ScenarioComparison = serde_json::from_value(row.comparison.0.clone())
        .map_err(|e| corrupt(&row.scenario_id, "comparison", e))?;
    let assumptions: ScenarioAssumptions = serde_json::from_value(row.assumptions.0.clone())
        .map_err(|e| corrupt(&row.scenario_id, "assumptions", e))?;
    let method = ScenarioMethod::parse(&row.method)
        .ok_or_else(|| corrupt(&row.scenario_id, "method", &row.method))?;
    Ok(ScenarioPlanResponse {
        provenance: provenance(&row),
        tags: plan_tags(&row),
        scenario_id: row.scenario_id,
        name: row.name,
        store_id: row.store_id,
        product_id: row.product_id,
        run_id: row.run_id,
        horizon: row.horizon,
        method,
        created_at: row.created_at,
        assumptions,
        comparison,
        cloned_from: row.cloned_from,
    })
}

/// `GET /scenarios/{id}`.
pub async fn get(state: &AppState, scenario_id: &str) -> Result<ScenarioPlanResponse, Problem> {
    let row = repo::find(&state.db, scenario_id)
        .await?
        .ok_or_else(|| not_found(scenario_id))?;
    plan_response(row)
}

/// `GET /scenarios`.
pub async fn list(
    state: &AppState,
    query: &ScenarioListQuery,
) -> Result<ScenarioListResponse, Problem> {
    let tags = query.tags.clone().unwrap_or_default();
    let (rows, total) = repo::list(
        &state.db,
        &tags,
        query.limit.unwrap_or(20),
        query.offset.unwrap_or(0),
    )
    .await?;
    let scenarios = rows
        .into_iter()
        .map(|row| {
            let delta = |name: &str| row.comparison.0.get(name).and_then(Value::as_f64);
            Ok(ScenarioListItem {
                units_delta: delta("units_delta")
                    .ok_or_else(|| corrupt(&row.scenario_id, "comparison", "no units_delta"))?,
                revenue_delta: delta("revenue_delta")
                    .ok_or_else(|| corrupt(&row.scenario_id, "comparison", "no revenue_delta"))?,
                provenance: provenance(&row),
                tags: plan_tags(&row),
                scenario_id: row.scenario_id,
                name: row.name,
                store_id: row.store_id,
                product_id: row.product_id,
                horizon: row.horizon,
                created_at: row.created_at,
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(ScenarioListResponse { scenarios, total })
}

/// `DELETE /scenarios/{id}`.
pub async fn delete(state: &AppState, scenario_id: &str) -> Result<(), Problem> {
    if repo::delete(&state.db, scenario_id).await? {
        Ok(())
    } else {
        Err(not_found(scenario_id))
    }
}

/// `POST /scenarios/compare`.
pub async fn compare(
    state: &AppState,
    request: CompareRequest,
) -> Result<MultiScenarioComparison, Problem> {
    validate(&request, None)?;
    let rows = repo::find_many(&state.db, &request.scenario_ids).await?;
    let mut by_id: HashMap<String, PlanRow> = rows
        .into_iter()
        .map(|row| (row.scenario_id.clone(), row))
        .collect();
    let missing: Vec<&str> = request
        .scenario_ids
        .iter()
        .filter(|id| !by_id.contains_key(id.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Problem::not_found(format!(
            "Scenario plans not found: {}",
            missing.join(", ")
        ))
        .with_extension("missing_ids", missing));
    }
    let plans: Vec<ScenarioPlanResponse> = request
        .scenario_ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(plan_response)
        .collect::<Result<_, _>>()?;
    Ok(rank(&plans, request.rank_by))
}

/// Ranks plans (descending by the metric; ties keep request order) and
/// merges their points into one chart series.
pub fn rank(plans: &[ScenarioPlanResponse], rank_by: RankBy) -> MultiScenarioComparison {
    let metric = |plan: &ScenarioPlanResponse| match rank_by {
        RankBy::RevenueDelta => plan.comparison.revenue_delta,
        RankBy::UnitsDelta => plan.comparison.units_delta,
    };
    let mut order: Vec<usize> = (0..plans.len()).collect();
    // sort_by is stable: equal metrics keep the request order.
    order.sort_by(|&a, &b| metric(&plans[b]).total_cmp(&metric(&plans[a])));
    let scenarios = order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let plan = &plans[i];
            RankedScenario {
                scenario_id: plan.scenario_id.clone(),
                name: plan.name.clone(),
                units_delta: plan.comparison.units_delta,
                revenue_delta: plan.comparison.revenue_delta,
                coverage_verdict: plan.comparison.coverage_verdict,
                rank: rank + 1,
            }
        })
        .collect();
    let mut dates: std::collections::BTreeMap<String, Map<String, Value>> = Default::default();
    for (i, plan) in plans.iter().enumerate() {
        for point in &plan.comparison.points {
            let date = point.date.to_string();
            let row = dates.entry(date.clone()).or_insert_with(|| {
                let mut row = Map::new();
                row.insert("date".into(), Value::String(date));
                row
            });
            if i == 0 {
                row.insert("baseline".into(), point.baseline.into());
            }
            row.insert(plan.scenario_id.clone(), point.scenario.into());
        }
    }
    let first = plans.first().map(|p| &p.comparison);
    MultiScenarioComparison {
        baseline_total_units: first.map_or(0.0, |c| c.baseline_total_units),
        baseline_revenue: first.map_or(0.0, |c| c.baseline_revenue),
        rank_by,
        scenarios,
        chart_series: dates.into_values().collect(),
    }
}
