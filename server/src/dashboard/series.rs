//! Page 2, Series explorer (`/ui/series`): one store × product's daily
//! units with promotion and stockout days marked, holidays shaded and the
//! price on a second axis, and the product's lifecycle curve.
//!
//! Units and price come from `GET /analytics/timeseries` (daily, filtered
//! to the series, with its window rules); the lifecycle curve from
//! `GET /dimensions/products/{id}/lifecycle-curve`; promotions, holidays
//! and stockouts from the loaders the feature groups read.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use chrono::{Duration, NaiveDate};
use forecastlab_core::SeriesKey;
use serde::Deserialize;

use super::{
    chart::{Chart, Colour, Series, Span, Style},
    nav::{self, NavItem},
    page::{render, Layout},
    picker::{data_window, SeriesChoice},
};
use crate::{
    data::series_data::{load_holidays, load_inventory, load_promotions},
    extract::{Path, Query, Validate, Violations},
    features::{
        analytics::{
            routes as analytics,
            schemas::{Granularity, TimeseriesQuery},
        },
        dimensions::{
            routes::{self as dimensions, ProductPath},
            schemas::LifecycleQuery,
        },
    },
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::SERIES;

/// Days shown by default (ending on the last day of data).
const DEFAULT_WINDOW_DAYS: i64 = 365;

/// The page and its fragment.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/series", get(page))
        .route("/ui/series/charts", get(charts))
}

#[derive(Template)]
#[template(path = "series.html")]
struct SeriesPage {
    layout: Layout,
}

async fn page() -> Result<Html<String>, Problem> {
    render(&SeriesPage {
        layout: Layout::of(NAV),
    })
}

/// Which series and window to show (absent: the first series, the last
/// year of data).
#[derive(Debug, Default, Deserialize)]
struct SeriesQuery {
    store_id: Option<i64>,
    product_id: Option<i64>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
}

impl Validate for SeriesQuery {
    fn validate(&self, v: &mut Violations) {
        self.choice().validate(v);
    }
}

impl SeriesQuery {
    fn choice(&self) -> SeriesChoice {
        SeriesChoice {
            store_id: self.store_id,
            product_id: self.product_id,
        }
    }
}

#[derive(Template)]
#[template(path = "series_charts.html")]
struct ChartsFragment {
    series: Option<(i64, i64)>,
    window: Option<(NaiveDate, NaiveDate)>,
    days_with_sales: usize,
    promotion_days: usize,
    stockout_days: usize,
    stages: Vec<(String, String)>,
    charts: Vec<Chart>,
}

impl ChartsFragment {
    fn empty(series: Option<(i64, i64)>) -> Self {
        Self {
            series,
            window: None,
            days_with_sales: 0,
            promotion_days: 0,
            stockout_days: 0,
            stages: Vec::new(),
            charts: Vec::new(),
        }
    }
}

async fn charts(
    State(state): State<AppState>,
    Query(query): Query<SeriesQuery>,
) -> Result<Html<String>, Problem> {
    let Some((store_id, product_id)) = query.choice().resolve(&state).await? else {
        return render(&ChartsFragment::empty(None));
    };
    let data = data_window(&state).await?;
    let end = query.end_date.or(data.map(|(_, end)| end));
    let start = query.start_date.or_else(|| {
        let (first, last) = data?;
        Some((end.unwrap_or(last) - Duration::days(DEFAULT_WINDOW_DAYS - 1)).max(first))
    });
    let Some((start, end)) = start.zip(end) else {
        return render(&ChartsFragment::empty(Some((store_id, product_id))));
    };
    let daily = analytics::timeseries(
        State(state.clone()),
        Query(TimeseriesQuery {
            start_date: start,
            end_date: end,
            granularity: Granularity::Day,
            store_id: Some(store_id),
            product_id: Some(product_id),
            category: None,
        }),
    )
    .await?
    .0;
    let key = SeriesKey {
        store_id,
        product_id,
    };
    let db_error = |error: sqlx::Error| Problem::internal(error);
    let promotions = load_promotions(&state.db, key, start, end)
        .await
        .map_err(db_error)?;
    let holidays = load_holidays(&state.db, start, end)
        .await
        .map_err(db_error)?;
    let inventory = load_inventory(&state.db, key, start, end)
        .await
        .map_err(db_error)?;
    let lifecycle = dimensions::lifecycle_curve(
        State(state.clone()),
        Path(ProductPath { product_id }),
        Query(LifecycleQuery {
            start_date: Some(start),
            end_date: Some(end),
        }),
    )
    .await?
    .0;

    let days: Vec<NaiveDate> = start.iter_days().take_while(|day| *day <= end).collect();
    let by_day: BTreeMap<NaiveDate, (f64, Option<f64>)> = daily
        .points
        .iter()
        .map(|point| {
            let units = point.metrics.total_units as f64;
            let price = point
                .metrics
                .avg_unit_price
                .as_deref()
                .and_then(|p| p.parse().ok());
            (point.period, (units, price))
        })
        .collect();
    let promo_days: BTreeSet<NaiveDate> = days
        .iter()
        .copied()
        .filter(|day| promotions.iter().any(|p| p.covers(*day)))
        .collect();
    let stockout_days: BTreeSet<NaiveDate> = inventory
        .iter()
        .filter(|snapshot| snapshot.is_stockout)
        .map(|snapshot| snapshot.date)
        .collect();
    let units_on = |marked: &BTreeSet<NaiveDate>| -> Vec<Option<f64>> {
        days.iter()
            .map(|day| {
                marked
                    .contains(day)
                    .then(|| by_day.get(day).map_or(0.0, |(units, _)| *units))
            })
            .collect()
    };

    let mut sales = Chart::dates(
        "series-sales",
        format!("Daily units, store {store_id} × product {product_id}"),
        "units",
    );
    sales.y2_label = Some("price".to_owned());
    sales.x = days.iter().map(ToString::to_string).collect();
    sales.push(Series::new(
        "units",
        days.iter()
            .map(|day| by_day.get(day).map(|(units, _)| *units))
            .collect(),
        Style::Line,
        Colour::Blue,
    ));
    sales.push(Series::new(
        "promotion day",
        units_on(&promo_days),
        Style::Points,
        Colour::Orange,
    ));
    sales.push(Series::new(
        "stockout day",
        units_on(&stockout_days),
        Style::Points,
        Colour::Black,
    ));
    sales.push(
        Series::new(
            "price",
            days.iter()
                .map(|day| by_day.get(day).and_then(|(_, price)| *price))
                .collect(),
            Style::Dashed,
            Colour::BluishGreen,
        )
        .on_right(),
    );
    sales.spans = holidays
        .iter()
        .map(|day| Span {
            start: day.to_string(),
            end: day.to_string(),
            label: "holiday".to_owned(),
            colour: Colour::SkyBlue,
        })
        .collect();

    let mut curve = Chart::dates(
        "series-lifecycle",
        format!(
            "Lifecycle curve of product {product_id} ({})",
            lifecycle.sku
        ),
        "demand multiplier",
    );
    curve.x = lifecycle
        .points
        .iter()
        .map(|p| p.date.to_string())
        .collect();
    curve.push(Series::new(
        "multiplier",
        lifecycle
            .points
            .iter()
            .map(|p| Some(p.multiplier))
            .collect(),
        Style::Line,
        Colour::ReddishPurple,
    ));
    let mut stages: Vec<(String, String)> = Vec::new();
    for point in &lifecycle.points {
        if stages.last().is_none_or(|(stage, _)| stage != point.stage) {
            stages.push((point.stage.to_owned(), point.date.to_string()));
        }
    }

    render(&ChartsFragment {
        series: Some((store_id, product_id)),
        window: Some((start, end)),
        days_with_sales: by_day.len(),
        promotion_days: promo_days.len(),
        stockout_days: stockout_days.len(),
        stages,
        charts: vec![sales, curve],
    })
}
