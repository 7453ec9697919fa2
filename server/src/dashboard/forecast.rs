//! Page 3, Forecast (`/ui/forecast`): pick a model (every registered one,
//! opt-in flags shown), a series and a window; the page queues a train job
//! and then a predict job (`POST /jobs`), shows their progress, and loads
//! the result: the recent actuals, the forecast and its prediction
//! interval as a band.

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use chrono::Duration;

use super::{
    chart::{Band, Chart, Colour, Series, Style},
    jobs::{completed_result, JobRef},
    nav::{self, NavItem},
    page::{num, render, Layout},
};
use crate::{
    extract::Query,
    features::{
        analytics::{
            routes as analytics,
            schemas::{Granularity, TimeseriesQuery},
        },
        forecasting::schemas::{ForecastPoint, PredictResponse},
        jobs::schemas::JobType,
    },
    models::{catalog, ModelInfo},
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::FORECAST;

/// Days of actuals drawn before the forecast.
const HISTORY_DAYS: i64 = 90;

/// The page and its fragment.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/forecast", get(page))
        .route("/ui/forecast/result", get(result))
}

#[derive(Template)]
#[template(path = "forecast.html")]
struct ForecastPage {
    layout: Layout,
    models: Vec<ModelInfo>,
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    render(&ForecastPage {
        layout: Layout::of(NAV),
        models: catalog(&state.settings),
    })
}

#[derive(Template)]
#[template(path = "forecast_result.html")]
struct ResultFragment {
    forecast: PredictResponse,
    run_id: String,
    charts: Vec<Chart>,
}

impl ResultFragment {
    fn value(&self, value: &Option<f64>) -> String {
        num(*value, 2)
    }

    fn level(&self) -> String {
        self.forecast.interval_level.map_or_else(
            || "no".to_owned(),
            |level| format!("{:.0} %", level * 100.0),
        )
    }
}

/// `GET /ui/forecast/result?job_id=`: the forecast of a completed predict
/// job with the series' last 90 days of actuals.
async fn result(
    State(state): State<AppState>,
    Query(JobRef { job_id }): Query<JobRef>,
) -> Result<Html<String>, Problem> {
    let result = completed_result(&state, &job_id, JobType::Predict).await?;
    let run_id = result["run_id"].as_str().unwrap_or_default().to_owned();
    let forecast: PredictResponse = serde_json::from_value(result).map_err(Problem::internal)?;
    let mut charts = Vec::new();
    if let Some(first) = forecast.forecasts.first().map(|point| point.date) {
        let history = analytics::timeseries(
            State(state.clone()),
            Query(TimeseriesQuery {
                start_date: first - Duration::days(HISTORY_DAYS),
                end_date: first - Duration::days(1),
                granularity: Granularity::Day,
                store_id: Some(forecast.store_id),
                product_id: Some(forecast.product_id),
                category: None,
            }),
        )
        .await?
        .0;
        let actuals: Vec<(String, f64)> = history
            .points
            .iter()
            .map(|p| (p.period.to_string(), p.metrics.total_units as f64))
            .collect();
        charts.push(forecast_chart(&forecast, &actuals));
    }
    render(&ResultFragment {
        forecast,
        run_id,
        charts,
    })
}

/// Actuals, then the forecast with its interval as a band.
fn forecast_chart(forecast: &PredictResponse, actuals: &[(String, f64)]) -> Chart {
    let mut chart = Chart::dates(
        "forecast-chart",
        format!(
            "{} forecast, store {} × product {}",
            forecast.model_type, forecast.store_id, forecast.product_id
        ),
        "units",
    );
    let gap = vec![None; actuals.len()];
    let ahead = |pick: fn(&ForecastPoint) -> Option<f64>| -> Vec<Option<f64>> {
        gap.iter()
            .copied()
            .chain(forecast.forecasts.iter().map(pick))
            .collect()
    };
    chart.x = actuals
        .iter()
        .map(|(day, _)| day.clone())
        .chain(forecast.forecasts.iter().map(|p| p.date.to_string()))
        .collect();
    chart.push(Series::new(
        "actual",
        actuals
            .iter()
            .map(|(_, units)| Some(*units))
            .chain(forecast.forecasts.iter().map(|_| None))
            .collect(),
        Style::Line,
        Colour::Blue,
    ));
    chart.push(Series::new(
        "forecast",
        ahead(|p| p.forecast),
        Style::Dashed,
        Colour::Vermillion,
    ));
    if forecast.interval_level.is_some() {
        let upper = chart.push(Series::new(
            "upper bound",
            ahead(|p| p.upper_bound),
            Style::BandEdge,
            Colour::Vermillion,
        ));
        let lower = chart.push(Series::new(
            "lower bound",
            ahead(|p| p.lower_bound),
            Style::BandEdge,
            Colour::Vermillion,
        ));
        chart.bands.push(Band { upper, lower });
    }
    chart
}
