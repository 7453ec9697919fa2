//! Page 1, Overview (`/`): data coverage, KPIs and daily revenue for a
//! chosen window, the seeder's status, and a form that seeds a preset
//! (`POST /seeder/generate` from the page).

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::{
    chart::{Chart, Colour, Series, Style},
    nav::{self, NavItem},
    page::{num, render, Layout},
    picker::data_window,
};
use crate::{
    extract::{Query, Validate},
    features::{
        analytics::{
            routes as analytics,
            schemas::{Granularity, KpiMetrics, KpiQuery, TimeseriesQuery},
        },
        seeder::{
            routes as seeder,
            schemas::{ScenarioInfo, SeederStatus},
        },
    },
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::OVERVIEW;

/// Days of the default KPI window (ending on the last day of data).
const DEFAULT_WINDOW_DAYS: i64 = 28;

/// The page and its fragments.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/ui/overview/coverage", get(coverage))
        .route("/ui/overview/kpis", get(kpis))
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    presets: Vec<ScenarioInfo>,
}

async fn page() -> Result<Html<String>, Problem> {
    let axum::Json(presets) = seeder::scenarios().await;
    render(&OverviewPage {
        layout: Layout::of(NAV),
        presets,
    })
}

#[derive(Template)]
#[template(path = "overview_coverage.html")]
struct CoverageFragment {
    status: SeederStatus,
}

async fn coverage(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    let axum::Json(status) = seeder::status(State(state)).await?;
    render(&CoverageFragment { status })
}

/// The KPI window; absent dates mean the last 28 days of data.
#[derive(Debug, Default, Deserialize)]
struct KpiWindow {
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
}

impl Validate for KpiWindow {}

#[derive(Template)]
#[template(path = "overview_kpis.html")]
struct KpiFragment {
    window: Option<(NaiveDate, NaiveDate)>,
    metrics: Option<KpiMetrics>,
    charts: Vec<Chart>,
}

impl KpiFragment {
    /// An exact decimal average shown with two places.
    fn money(&self, value: &Option<String>) -> String {
        num(value.as_deref().and_then(|v| v.parse().ok()), 2)
    }
}

async fn kpis(
    State(state): State<AppState>,
    Query(window): Query<KpiWindow>,
) -> Result<Html<String>, Problem> {
    let data = data_window(&state).await?;
    let end = window.end_date.or(data.map(|(_, end)| end));
    let start = window
        .start_date
        .or(end.map(|end| end - Duration::days(DEFAULT_WINDOW_DAYS - 1)));
    let Some((start, end)) = start.zip(end) else {
        return render(&KpiFragment {
            window: None,
            metrics: None,
            charts: Vec::new(),
        });
    };
    let query = KpiQuery {
        start_date: start,
        end_date: end,
        store_id: None,
        product_id: None,
        category: None,
    };
    let axum::Json(kpis) = analytics::kpis(State(state.clone()), Query(query)).await?;
    let query = TimeseriesQuery {
        start_date: start,
        end_date: end,
        granularity: Granularity::Day,
        store_id: None,
        product_id: None,
        category: None,
    };
    let axum::Json(series) = analytics::timeseries(State(state), Query(query)).await?;
    let mut chart = Chart::dates("daily-revenue", "Daily revenue and units", "revenue");
    chart.y2_label = Some("units".to_owned());
    chart.x = series.points.iter().map(|p| p.period.to_string()).collect();
    let revenue = series
        .points
        .iter()
        .map(|p| p.metrics.total_revenue.parse::<f64>().ok())
        .collect();
    let units = series
        .points
        .iter()
        .map(|p| Some(p.metrics.total_units as f64))
        .collect();
    chart.push(Series::new("revenue", revenue, Style::Line, Colour::Blue));
    chart.push(Series::new("units", units, Style::Dashed, Colour::Vermillion).on_right());
    render(&KpiFragment {
        window: Some((start, end)),
        metrics: Some(kpis.metrics),
        charts: vec![chart],
    })
}
