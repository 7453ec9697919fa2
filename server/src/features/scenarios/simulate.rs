//! Running a scenario against a trained model.
//!
//! * Target-only models (`heuristic`, `elasticity`): the model's own
//!   forecast is the baseline; each day's scenario is the baseline times the
//!   multipliers of §7.2 (with the fixed −1.2 or the series' learned price
//!   elasticity).
//! * Feature-aware models (`model_exogenous`, whatever the model): two
//!   future frames are built by the same code `/forecasting/predict` uses —
//!   the known future inputs of the series (listed prices, planned
//!   promotions, calendar holidays) for the baseline, and the same inputs
//!   with the assumptions laid over them for the scenario — and the model
//!   forecasts both with the default multi-step strategy.
//!
//! The model is found through the forecasting slice's guarded artifact
//! resolver (12-hex key or a path inside the artifacts directory; outside →
//! 400, missing → 404). CPU work runs on the blocking pool; a portfolio
//! loads its artifacts and forecasts its target-only models on rayon.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use forecastlab_core::{
    frame::{self, FeatureAwareMetadata, FutureInputs, MultiStepStrategy},
    taxonomy::InputKind,
    FittedModel, PredictRequest, SeriesKey,
};
use futures::{stream, StreamExt};
use rayon::prelude::*;

use super::{
    adjust::{self, PRICE_ELASTICITY},
    elasticity::{self, Day},
    repo,
    schemas::{
        CoverageVerdict, ElasticityEstimate, PortfolioComparison, PortfolioRun, PortfolioTotals,
        PromotionKind, ScenarioAssumptions, ScenarioComparison, ScenarioMethod, ScenarioPoint,
    },
};
use crate::{
    data::series_data::{load_series_data, SideTables},
    features::forecasting::{
        feature_aware::load_future_inputs,
        model::model_problem,
        stored::{
            decode_model, fetch_artifact, load_model, model_key, ArtifactSource, LoadedModel,
        },
    },
    problem::Problem,
    state::AppState,
};

/// What one simulation request asks for (shared by every run of a
/// portfolio).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Days to simulate.
    pub horizon: usize,
    /// The assumptions.
    pub assumptions: ScenarioAssumptions,
    /// The method asked for (`None` = the model's natural one).
    pub method: Option<ScenarioMethod>,
    /// Optional label.
    pub name: Option<String>,
}

/// Simulates one run.
pub async fn simulate(
    state: &AppState,
    run_id: &str,
    scenario: &Scenario,
) -> Result<ScenarioComparison, Problem> {
    let loaded = load_model(state, run_id).await?;
    let key = loaded.series_key()?;
    let prices = repo::latest_unit_prices(&state.db, &[key]).await?;
    let unit_price = prices.get(&key).copied().unwrap_or(1.0);
    run(state, loaded, scenario, unit_price).await
}

/// The method a model takes: target-only models default to `heuristic`
/// and may ask for `elasticity`; feature-aware models always re-forecast.
pub fn resolve_method(
    input: InputKind,
    model_type: &str,
    asked: Option<ScenarioMethod>,
) -> Result<ScenarioMethod, Problem> {
    match (input, asked) {
        (InputKind::TargetOnly, None) => Ok(ScenarioMethod::Heuristic),
        (InputKind::TargetOnly, Some(ScenarioMethod::ModelExogenous)) => {
            Err(Problem::invalid_field(
                "method",
                format!(
                    "'{model_type}' is a target-only model: it cannot read assumptions as \
                     inputs; use 'heuristic' or 'elasticity'"
                ),
                "value_error",
            ))
        }
        (InputKind::TargetOnly, Some(method)) => Ok(method),
        (InputKind::FeatureAware, None | Some(ScenarioMethod::ModelExogenous)) => {
            Ok(ScenarioMethod::ModelExogenous)
        }
        (InputKind::FeatureAware, Some(method)) => Err(Problem::invalid_field(
            "method",
            format!(
                "'{model_type}' is a feature-aware model: its scenarios are re-forecast with \
                 the assumptions as inputs (method 'model_exogenous'), not '{}'",
                method.as_str()
            ),
            "value_error",
        )),
    }
}

fn horizon_origin(loaded: &LoadedModel) -> NaiveDate {
    loaded
        .train_end_date()
        .unwrap_or_else(|| Utc::now().date_naive())
}

async fn run(
    state: &AppState,
    loaded: LoadedModel,
    scenario: &Scenario,
    unit_price: f64,
) -> Result<ScenarioComparison, Problem> {
    let key = loaded.series_key()?;
    let model_type = loaded.header.model_type.clone();
    let method = resolve_method(loaded.registration.input, &model_type, scenario.method)?;
    let origin = horizon_origin(&loaded);
    let dates = FutureInputs::horizon_dates(origin, scenario.horizon).map_err(model_problem)?;
    let run_id = loaded.key.clone();
    let (points, elasticity) = match method {
        ScenarioMethod::Heuristic | ScenarioMethod::Elasticity => {
            let learned = if method == ScenarioMethod::Elasticity {
                Some(learn_elasticity(state, key, origin).await?)
            } else {
                None
            };
            let fitted = loaded.fitted;
            let horizon = scenario.horizon;
            let baseline =
                tokio::task::spawn_blocking(move || target_only_forecast(&*fitted, horizon))
                    .await??;
            let e = learned.as_ref().map_or(PRICE_ELASTICITY, |l| l.elasticity);
            (
                adjust::heuristic_points(&dates, &baseline, &scenario.assumptions, e),
                learned,
            )
        }
        ScenarioMethod::ModelExogenous => {
            let points = model_exogenous(state, loaded, key, origin, scenario, &dates).await?;
            (points, None)
        }
    };
    Ok(comparison(
        key, model_type, run_id, method, points, elasticity, unit_price, scenario,
    ))
}

fn target_only_forecast(model: &dyn FittedModel, horizon: usize) -> Result<Vec<f64>, Problem> {
    let forecast = model
        .predict(&PredictRequest::horizon(horizon))
        .map_err(model_problem)?;
    if forecast.point.len() != horizon {
        return Err(Problem::internal(format!(
            "model returned {} steps for a horizon of {horizon}",
            forecast.point.len()
        )));
    }
    Ok(forecast.point)
}

/// Builds the response of one run from its points.
#[allow(clippy::too_many_arguments)]
fn comparison(
    key: SeriesKey,
    model_type: String,
    run_id: String,
    method: ScenarioMethod,
    points: Vec<ScenarioPoint>,
    elasticity: Option<ElasticityEstimate>,
    unit_price: f64,
    scenario: &Scenario,
) -> ScenarioComparison {
    let totals = adjust::totals(&points);
    let on_hand = scenario
        .assumptions
        .inventory
        .as_ref()
        .map(|i| i.on_hand_units);
    let baseline_revenue = totals.baseline_units * unit_price;
    let scenario_revenue = totals.scenario_units * unit_price;
    ScenarioComparison {
        store_id: key.store_id,
        product_id: key.product_id,
        model_type,
        run_id,
        horizon: points.len(),
        baseline_total_units: totals.baseline_units,
        scenario_total_units: totals.scenario_units,
        units_delta: totals.scenario_units - totals.baseline_units,
        units_delta_pct: totals.units_delta_pct,
        unit_price_used: unit_price,
        baseline_revenue,
        scenario_revenue,
        revenue_delta: scenario_revenue - baseline_revenue,
        coverage_verdict: adjust::coverage(totals.scenario_units, on_hand),
        method,
        disclaimer: method.disclaimer().to_owned(),
        elasticity,
        name: scenario.name.clone(),
        generated_at: Utc::now(),
        points,
    }
}

/// Lays the assumptions over the known future inputs (§7.4, adapted to
/// the known-inputs baseline): inside the price window the price factor is
/// multiplied by `1 + change_pct` (an unknown price counts as the
/// baseline price), inside the promotion window a promotion of the kind is
/// active, assumed holiday dates are holidays. Lifecycle and inventory do
/// not change the frame.
pub fn apply_assumptions(known: &FutureInputs, assumptions: &ScenarioAssumptions) -> FutureInputs {
    let mut out = known.clone();
    for (i, date) in known.dates.iter().enumerate() {
        if let Some(price) = &assumptions.price {
            if adjust::in_window(*date, price.start_date, price.end_date) {
                if let Some(factor) = out.price_factor.get_mut(i) {
                    let base = if factor.is_finite() { *factor } else { 1.0 };
                    *factor = base * (1.0 + price.change_pct);
                }
            }
        }
        if let Some(promotion) = &assumptions.promotion {
            if adjust::in_window(*date, promotion.start_date, promotion.end_date) {
                set(&mut out.promo_active, i);
                match promotion.kind {
                    PromotionKind::Markdown => set(&mut out.promo_markdown_active, i),
                    PromotionKind::Bundle => set(&mut out.promo_bundle_active, i),
                    PromotionKind::PctOff | PromotionKind::Bogo => {}
                }
            }
        }
        if let Some(holiday) = &assumptions.holiday {
            if holiday.dates.contains(date) {
                set(&mut out.is_holiday, i);
            }
        }
    }
    out
}

fn set(column: &mut [f64], i: usize) {
    if let Some(cell) = column.get_mut(i) {
        *cell = 1.0;
    }
}

/// The feature metadata of a feature-aware artifact, or the 400 that says
/// to retrain.
pub fn feature_metadata(loaded: &LoadedModel) -> Result<FeatureAwareMetadata, Problem> {
    let advice = |why: &str| {
        Problem::bad_request(format!(
            "Model artifact {} has no usable feature metadata ({why}); retrain the model with \
             POST /forecasting/train to simulate scenarios with it",
            loaded.key
        ))
    };
    let metadata: FeatureAwareMetadata = serde_json::from_value(loaded.header.metadata.clone())
        .map_err(|e| advice(&e.to_string()))?;
    if metadata.feature_columns.is_empty() {
        return Err(advice("no feature_columns"));
    }
    if metadata.history_tail.is_empty() {
        return Err(advice("no history_tail"));
    }
    Ok(metadata)
}

async fn model_exogenous(
    state: &AppState,
    loaded: LoadedModel,
    key: SeriesKey,
    origin: NaiveDate,
    scenario: &Scenario,
    dates: &[NaiveDate],
) -> Result<Vec<ScenarioPoint>, Problem> {
    let metadata = feature_metadata(&loaded)?;
    let (known, history) =
        load_future_inputs(&state.db, key, &metadata, origin, scenario.horizon).await?;
    let assumed = apply_assumptions(&known, &scenario.assumptions);
    let model: Arc<dyn FittedModel> = Arc::from(loaded.fitted);
    let (baseline, with) = tokio::task::spawn_blocking(move || {
        let strategy = MultiStepStrategy::DEFAULT;
        let baseline =
            frame::forecast(model.as_ref(), &metadata, &known, strategy, Some(&history))?;
        let with = frame::forecast(
            model.as_ref(),
            &metadata,
            &assumed,
            strategy,
            Some(&history),
        )?;
        Ok::<_, forecastlab_core::CoreError>((baseline.point, with.point))
    })
    .await?
    .map_err(model_problem)?;
    Ok(adjust::model_points(dates, &baseline, &with))
}

/// Learns the series' own-price elasticity from its sales up to `origin`.
pub async fn learn_elasticity(
    state: &AppState,
    key: SeriesKey,
    origin: NaiveDate,
) -> Result<ElasticityEstimate, Problem> {
    let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let tables = SideTables {
        promotions: true,
        inventory: true,
        ..SideTables::none()
    };
    let data = load_series_data(&state.db, key, start, origin, origin, tables).await?;
    Ok(tokio::task::spawn_blocking(move || {
        let stockouts: std::collections::HashSet<NaiveDate> = data
            .inventory
            .iter()
            .filter(|day| day.is_stockout)
            .map(|day| day.date)
            .collect();
        let days: Vec<Day> = data
            .dates
            .iter()
            .zip(data.target.iter().zip(&data.price))
            .map(|(date, (&quantity, &price))| Day {
                date: *date,
                quantity,
                price,
                promoted: data.promotions_on(*date).next().is_some(),
                stocked_out: stockouts.contains(date),
            })
            .collect();
        elasticity::estimate(&days)
    })
    .await?)
}

/// How many artifacts a portfolio simulation reads at once.
const FETCH_CONCURRENCY: usize = 16;

/// Simulates many runs under one scenario: the artifacts are read
/// concurrently from the artifact store and verified on rayon, the series' unit prices come from one query, the
/// heuristic runs forecast in parallel on rayon, and the others (learned
/// elasticity, feature-aware models) run concurrently. A run that fails is
/// reported with its error; the totals cover the runs that succeeded.
pub async fn simulate_many(
    state: &AppState,
    run_ids: &[String],
    scenario: &Scenario,
) -> Result<PortfolioComparison, Problem> {
    let fetched: Vec<Result<(String, Bytes), Problem>> = stream::iter(run_ids.to_vec())
        .map(|run_id| {
            let state = state.clone();
            async move {
                let key = model_key(&state, &run_id)?;
                let source = ArtifactSource::Model(key.clone());
                Ok((key, fetch_artifact(&state, &source, &run_id).await?))
            }
        })
        .buffered(FETCH_CONCURRENCY)
        .collect()
        .await;
    let settings = Arc::clone(&state.settings);
    let loaded: Vec<Result<LoadedModel, Problem>> = tokio::task::spawn_blocking(move || {
        fetched
            .into_par_iter()
            .map(|fetched| fetched.and_then(|(key, bytes)| decode_model(&settings, &bytes, key)))
            .collect()
    })
    .await?;
    let mut keys: Vec<SeriesKey> = loaded
        .iter()
        .filter_map(|l| l.as_ref().ok().and_then(|l| l.series_key().ok()))
        .collect();
    keys.sort_unstable_by_key(|k| (k.store_id, k.product_id));
    keys.dedup();
    let prices = repo::latest_unit_prices(&state.db, &keys).await?;
    let price_of = |key: SeriesKey| prices.get(&key).copied().unwrap_or(1.0);

    let mut results: Vec<Option<Result<ScenarioComparison, Problem>>> =
        (0..run_ids.len()).map(|_| None).collect();
    let mut fast: Vec<(usize, LoadedModel)> = Vec::new();
    let mut slow: Vec<(usize, LoadedModel)> = Vec::new();
    for (index, model) in loaded.into_iter().enumerate() {
        match model {
            Err(problem) => results[index] = Some(Err(problem)),
            Ok(model) => {
                let method = resolve_method(
                    model.registration.input,
                    &model.header.model_type,
                    scenario.method,
                );
                match method {
                    Ok(ScenarioMethod::Heuristic) => fast.push((index, model)),
                    Ok(_) => slow.push((index, model)),
                    Err(problem) => results[index] = Some(Err(problem)),
                }
            }
        }
    }

    let fast_scenario = scenario.clone();
    let fast_prices: Vec<f64> = fast
        .iter()
        .map(|(_, m)| m.series_key().map(price_of).unwrap_or(1.0))
        .collect();
    let fast_results: Vec<(usize, Result<ScenarioComparison, Problem>)> =
        tokio::task::spawn_blocking(move || {
            fast.into_par_iter()
                .zip(fast_prices)
                .map(|((index, model), price)| {
                    (index, heuristic_blocking(model, &fast_scenario, price))
                })
                .collect()
        })
        .await?;
    for (index, result) in fast_results {
        results[index] = Some(result);
    }

    let concurrency = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let slow_results: Vec<(usize, Result<ScenarioComparison, Problem>)> = stream::iter(slow)
        .map(|(index, model)| {
            let price = model.series_key().map(price_of).unwrap_or(1.0);
            async move { (index, run(state, model, scenario, price).await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (index, result) in slow_results {
        results[index] = Some(result);
    }

    let runs: Vec<PortfolioRun> = run_ids
        .iter()
        .zip(results)
        .map(|(run_id, result)| match result {
            Some(Ok(comparison)) => PortfolioRun {
                run_id: run_id.clone(),
                comparison: Some(comparison),
                error: None,
            },
            Some(Err(problem)) => PortfolioRun {
                run_id: run_id.clone(),
                comparison: None,
                error: Some(problem.detail.clone()),
            },
            None => PortfolioRun {
                run_id: run_id.clone(),
                comparison: None,
                error: Some("not simulated".into()),
            },
        })
        .collect();
    Ok(PortfolioComparison {
        totals: portfolio_totals(&runs),
        runs,
        horizon: scenario.horizon,
        generated_at: Utc::now(),
    })
}

fn heuristic_blocking(
    model: LoadedModel,
    scenario: &Scenario,
    unit_price: f64,
) -> Result<ScenarioComparison, Problem> {
    let key = model.series_key()?;
    let origin = horizon_origin(&model);
    let dates = FutureInputs::horizon_dates(origin, scenario.horizon).map_err(model_problem)?;
    let baseline = target_only_forecast(&*model.fitted, scenario.horizon)?;
    let points =
        adjust::heuristic_points(&dates, &baseline, &scenario.assumptions, PRICE_ELASTICITY);
    Ok(comparison(
        key,
        model.header.model_type.clone(),
        model.key.clone(),
        ScenarioMethod::Heuristic,
        points,
        None,
        unit_price,
        scenario,
    ))
}

/// Sums the runs that succeeded.
pub fn portfolio_totals(runs: &[PortfolioRun]) -> PortfolioTotals {
    let done: Vec<&ScenarioComparison> =
        runs.iter().filter_map(|r| r.comparison.as_ref()).collect();
    let sum = |f: fn(&ScenarioComparison) -> f64| done.iter().map(|c| f(c)).sum::<f64>();
    let count = |verdict: CoverageVerdict| {
        done.iter()
            .filter(|c| c.coverage_verdict == verdict)
            .count()
    };
    PortfolioTotals {
        runs: done.len(),
        failed: runs.len() - done.len(),
        baseline_total_units: sum(|c| c.baseline_total_units),
        scenario_total_units: sum(|c| c.scenario_total_units),
        units_delta: sum(|c| c.units_delta),
        baseline_revenue: sum(|c| c.baseline_revenue),
        scenario_revenue: sum(|c| c.scenario_revenue),
        revenue_delta: sum(|c| c.revenue_delta),
        series_at_risk: count(CoverageVerdict::AtRisk),
        series_stockout: count(CoverageVerdict::Stockout),
    }
}
