//! Feature computation for one series: load (§2.3), compute through the
//! core engine (§2.4–2.5) on the blocking pool, shape the response (§2.6).

use std::time::Instant;

use chrono::{Days, NaiveDate};
use forecastlab_core::{
    features::{self, ColumnKind, FeatureLimits, FeatureSpec, FeatureTable},
    SeriesKey,
};
use serde_json::{Map, Value};

use super::schemas::{ComputeFeaturesResponse, FeatureRow, FeatureSetConfig};
use crate::{
    config::Settings,
    data::series_data::{load_series_data, SideTables},
    db::Db,
    problem::{FieldError, Problem},
};

/// What to compute.
#[derive(Debug, Clone)]
pub(crate) struct FeatureRequest {
    pub(crate) key: SeriesKey,
    pub(crate) cutoff: NaiveDate,
    pub(crate) lookback_days: i64,
    pub(crate) config: FeatureSetConfig,
    /// `Some(n)`: return only the last `n` rows (preview).
    pub(crate) sample_rows: Option<usize>,
}

/// Enforces `FEATURE_MAX_LAG`, `FEATURE_MAX_WINDOW` and
/// `FEATURE_MAX_LOOKBACK_DAYS`: a 422 naming the setting.
fn check_limits(
    settings: &Settings,
    spec: &FeatureSpec,
    lookback_days: i64,
) -> Result<(), Problem> {
    let limits = FeatureLimits {
        max_lag: settings.feature_max_lag,
        max_window: settings.feature_max_window,
    };
    let violations = spec.check_limits(&limits);
    let mut errors: Vec<FieldError> = violations
        .iter()
        .map(|violation| {
            FieldError::new(
                violation.field.clone(),
                violation.message(),
                "less_than_equal",
            )
        })
        .collect();
    let mut settings_named: Vec<&str> = violations.iter().map(|v| v.setting).collect();
    if lookback_days > settings.feature_max_lookback_days {
        errors.push(FieldError::new(
            "lookback_days",
            format!(
                "lookback_days exceeds FEATURE_MAX_LOOKBACK_DAYS={} (got {lookback_days})",
                settings.feature_max_lookback_days
            ),
            "less_than_equal",
        ));
        settings_named.push("FEATURE_MAX_LOOKBACK_DAYS");
    }
    if errors.is_empty() {
        return Ok(());
    }
    settings_named.dedup();
    let detail = errors
        .iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let mut problem = Problem::validation(errors);
    problem.detail = detail;
    Err(problem.with_extension("settings", settings_named))
}

fn side_tables(spec: &FeatureSpec) -> SideTables {
    let exogenous = spec.exogenous.as_ref();
    SideTables {
        product: spec.lifecycle.is_some(),
        promotions: spec.promotion.is_some() || exogenous.is_some_and(|e| e.include_promo),
        price_history: false,
        holidays: spec.calendar.as_ref().is_some_and(|c| c.is_holiday),
        inventory: exogenous.is_some_and(|e| e.include_inventory || e.include_stockout_flag),
        replenishment: spec.replenishment.is_some(),
        returns: false,
        exogenous: false,
    }
}

fn json_value(value: f64, kind: ColumnKind) -> Value {
    if !value.is_finite() {
        return Value::Null;
    }
    match kind {
        ColumnKind::Int if value.fract() == 0.0 && value.abs() < 9.0e15 => {
            Value::from(value as i64)
        }
        _ => serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number),
    }
}

fn response(
    table: &FeatureTable,
    request: &FeatureRequest,
    config_hash: String,
    started: Instant,
) -> ComputeFeaturesResponse {
    let n = table.n_rows();
    let first = request
        .sample_rows
        .map_or(0, |sample| n.saturating_sub(sample));
    let rows: Vec<FeatureRow> = (first..n)
        .map(|i| {
            let mut features = Map::with_capacity(table.columns.len());
            for (column, values) in table.columns.iter().zip(&table.values) {
                features.insert(column.name.clone(), json_value(values[i], column.kind));
            }
            FeatureRow {
                date: table.dates[i],
                store_id: request.key.store_id,
                product_id: request.key.product_id,
                features,
            }
        })
        .collect();
    let mut null_counts = Map::new();
    for (column, count) in table.columns.iter().zip(table.null_counts()) {
        null_counts.insert(column.name.clone(), Value::from(count));
    }
    let duration_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    ComputeFeaturesResponse {
        row_count: rows.len(),
        rows,
        feature_columns: table.column_names(),
        config_hash,
        cutoff_date: request.cutoff,
        null_counts,
        duration_ms,
    }
}

/// Loads the series and computes its features.
pub(crate) async fn compute(
    db: &Db,
    settings: &Settings,
    request: FeatureRequest,
) -> Result<ComputeFeaturesResponse, Problem> {
    let started = Instant::now();
    let spec = request.config.to_spec();
    check_limits(settings, &spec, request.lookback_days)?;
    let lookback = u64::try_from(request.lookback_days).unwrap_or(0);
    let start = request
        .cutoff
        .checked_sub_days(Days::new(lookback))
        .ok_or_else(|| {
            Problem::invalid_field(
                "cutoff_date",
                "cutoff_date minus lookback_days is before the supported calendar",
                "value_error",
            )
        })?;
    let data = load_series_data(
        db,
        request.key,
        start,
        request.cutoff,
        request.cutoff,
        side_tables(&spec),
    )
    .await?;
    if data.is_empty() {
        return Err(Problem::not_found(format!(
            "No data found for store_id={}, product_id={}",
            request.key.store_id, request.key.product_id
        )));
    }
    let table = tokio::task::spawn_blocking(move || features::compute(&spec, &data)).await??;
    let config_hash = request.config.config_hash();
    Ok(response(&table, &request, config_hash, started))
}
