//! Page 4, Backtest (`/ui/backtest`): time-series cross-validation of a
//! model on one series, queued as a backtest job. The result shows the
//! folds on the timeline, actual against predicted per fold, the metrics
//! against the baselines and the error per horizon bucket.

use std::collections::BTreeMap;

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use chrono::NaiveDate;

use super::{
    chart::{Chart, Colour, Series, Style, MODEL_COLOURS},
    jobs::{completed_result, JobRef},
    nav::{self, NavItem},
    page::{num, render, Layout},
};
use crate::{
    extract::Query,
    features::{
        backtesting::schemas::{
            BacktestResponse, BucketMetricsBody, MetricsBody, ModelBacktestResult,
        },
        jobs::schemas::JobType,
    },
    models::{catalog, ModelInfo},
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::BACKTEST;

/// The page and its fragment.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/backtest", get(page))
        .route("/ui/backtest/result", get(result))
}

#[derive(Template)]
#[template(path = "backtest.html")]
struct BacktestPage {
    layout: Layout,
    models: Vec<ModelInfo>,
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    render(&BacktestPage {
        layout: Layout::of(NAV),
        models: catalog(&state.settings),
    })
}

/// One line of the metrics table.
#[derive(Debug)]
struct MetricsRow {
    model: String,
    main: bool,
    cells: [String; 5],
}

impl MetricsRow {
    fn new(model: &ModelBacktestResult, main: bool) -> Self {
        let m = &model.aggregated_metrics;
        Self {
            model: model.model_type.clone(),
            main,
            cells: [m.mae, m.rmse, m.smape, m.wape, m.bias].map(|v| num(v, 3)),
        }
    }
}

/// One line of the folds table.
#[derive(Debug)]
struct FoldRow {
    fold: usize,
    train: String,
    test: String,
    train_size: usize,
    test_size: usize,
    mae: String,
    wape: String,
}

#[derive(Template)]
#[template(path = "backtest_result.html")]
struct ResultFragment {
    model_type: String,
    store_id: i64,
    product_id: i64,
    leakage_check_passed: bool,
    metrics: Vec<MetricsRow>,
    folds: Vec<FoldRow>,
    charts: Vec<Chart>,
}

/// `GET /ui/backtest/result?job_id=`: the report of a completed backtest
/// job.
async fn result(
    State(state): State<AppState>,
    Query(JobRef { job_id }): Query<JobRef>,
) -> Result<Html<String>, Problem> {
    let result = completed_result(&state, &job_id, JobType::Backtest).await?;
    let report: BacktestResponse =
        serde_json::from_value(result["report"].clone()).map_err(Problem::internal)?;
    let main = report.main_model_results.ok_or_else(|| {
        Problem::bad_request(format!("Job {job_id} holds no single-series backtest."))
    })?;
    let baselines = report.baseline_results.unwrap_or_default();
    let mut metrics = vec![MetricsRow::new(&main, true)];
    metrics.extend(baselines.iter().map(|b| MetricsRow::new(b, false)));
    let folds = main
        .fold_results
        .iter()
        .map(|fold| FoldRow {
            fold: fold.fold_index + 1,
            train: format!("{} → {}", fold.split.train_start, fold.split.train_end),
            test: format!("{} → {}", fold.split.test_start, fold.split.test_end),
            train_size: fold.split.train_size,
            test_size: fold.split.test_size,
            mae: num(fold.metrics.mae, 3),
            wape: num(fold.metrics.wape, 3),
        })
        .collect();
    let models: Vec<&ModelBacktestResult> = std::iter::once(&main).chain(&baselines).collect();
    let charts = vec![
        folds_chart(&main),
        predictions_chart(&models),
        buckets_chart(&models),
    ];
    render(&ResultFragment {
        model_type: main.model_type.clone(),
        store_id: report.store_id.unwrap_or_default(),
        product_id: report.product_id.unwrap_or_default(),
        leakage_check_passed: report.leakage_check_passed,
        metrics,
        folds,
        charts,
    })
}

/// Each fold as two thick segments at height = fold number: its training
/// window and its test window.
fn folds_chart(main: &ModelBacktestResult) -> Chart {
    let mut chart = Chart::dates("backtest-folds", "Folds on the timeline", "fold");
    let (Some(first), Some(last)) = (
        main.fold_results.iter().map(|f| f.split.train_start).min(),
        main.fold_results.iter().map(|f| f.split.test_end).max(),
    ) else {
        return chart;
    };
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    chart.x = days.iter().map(ToString::to_string).collect();
    for fold in &main.fold_results {
        let height = (fold.fold_index + 1) as f64;
        let within = |from: NaiveDate, to: NaiveDate| -> Vec<Option<f64>> {
            days.iter()
                .map(|d| (from <= *d && *d <= to).then_some(height))
                .collect()
        };
        let n = fold.fold_index + 1;
        chart.push(Series::new(
            format!("fold {n} train"),
            within(fold.split.train_start, fold.split.train_end),
            Style::Thick,
            Colour::Blue,
        ));
        chart.push(Series::new(
            format!("fold {n} test"),
            within(fold.split.test_start, fold.split.test_end),
            Style::Thick,
            Colour::Vermillion,
        ));
    }
    chart
}

/// Actuals and every model's predictions over the folds' test days.
fn predictions_chart(models: &[&ModelBacktestResult]) -> Chart {
    let mut chart = Chart::dates(
        "backtest-predictions",
        "Actual against predicted, per fold",
        "units",
    );
    let mut actual: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut predicted: Vec<BTreeMap<NaiveDate, Option<f64>>> = vec![BTreeMap::new(); models.len()];
    for (model, by_day) in models.iter().zip(predicted.iter_mut()) {
        for fold in &model.fold_results {
            for ((day, value), prediction) in
                fold.dates.iter().zip(&fold.actuals).zip(&fold.predictions)
            {
                actual.insert(*day, *value);
                by_day.insert(*day, *prediction);
            }
        }
    }
    // Every day from the first to the last test day, so the lines break
    // between folds instead of joining them.
    let days: Vec<NaiveDate> = match (actual.keys().next(), actual.keys().next_back()) {
        (Some(first), Some(last)) => first.iter_days().take_while(|d| d <= last).collect(),
        _ => Vec::new(),
    };
    chart.x = days.iter().map(ToString::to_string).collect();
    chart.push(Series::new(
        "actual",
        days.iter().map(|day| actual.get(day).copied()).collect(),
        Style::Line,
        Colour::Blue,
    ));
    for ((model, by_day), colour) in models
        .iter()
        .zip(&predicted)
        .zip(MODEL_COLOURS.iter().cycle())
    {
        chart.push(Series::new(
            format!("{} predicted", model.model_type),
            days.iter()
                .map(|day| by_day.get(day).copied().flatten())
                .collect(),
            Style::Dashed,
            *colour,
        ));
    }
    chart
}

/// Reads one horizon bucket's metrics.
type BucketPick = fn(&BucketMetricsBody) -> Option<MetricsBody>;

/// Mean WAPE per horizon bucket, per model.
fn buckets_chart(models: &[&ModelBacktestResult]) -> Chart {
    let mut chart = Chart::categories(
        "backtest-buckets",
        "WAPE per horizon bucket (mean over folds)",
        "WAPE",
    );
    let buckets: [(&str, BucketPick); 4] = [
        ("days 1–7", |b| b.h_1_7),
        ("days 8–14", |b| b.h_8_14),
        ("days 15–28", |b| b.h_15_28),
        ("days 29+", |b| b.h_29_plus),
    ];
    let present: Vec<usize> = (0..buckets.len())
        .filter(|i| {
            models.iter().any(|m| {
                m.bucketed_aggregated_metrics
                    .as_ref()
                    .and_then(buckets[*i].1)
                    .is_some()
            })
        })
        .collect();
    chart.x = present.iter().map(|i| buckets[*i].0.to_owned()).collect();
    for (model, colour) in models.iter().zip(MODEL_COLOURS.iter().cycle()) {
        let values = present
            .iter()
            .map(|i| {
                model
                    .bucketed_aggregated_metrics
                    .as_ref()
                    .and_then(buckets[*i].1)
                    .and_then(|m| m.wape)
            })
            .collect();
        chart.push(Series::new(
            model.model_type.clone(),
            values,
            Style::Line,
            *colour,
        ));
    }
    chart
}
