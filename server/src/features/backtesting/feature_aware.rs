//! Series inputs of a backtest and the feature-aware fold forecast.

use chrono::NaiveDate;
use forecastlab_core::{backtest::Fold, CoreError, Forecaster, SeriesKey};

use crate::{data::series::SalesSeries, problem::Problem, state::AppState};

/// One series as a backtest sees it.
#[derive(Debug, Clone)]
pub(crate) struct SeriesInput {
    key: SeriesKey,
    sales: SalesSeries,
}

impl SeriesInput {
    pub(crate) fn from_sales(key: SeriesKey, sales: SalesSeries) -> Self {
        Self { key, sales }
    }

    pub(crate) fn key(&self) -> SeriesKey {
        self.key
    }

    pub(crate) fn len(&self) -> usize {
        self.sales.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sales.is_empty()
    }

    pub(crate) fn dates(&self) -> &[NaiveDate] {
        &self.sales.dates
    }

    pub(crate) fn target(&self) -> &[f64] {
        &self.sales.quantity
    }
}

/// Loads what feature-aware models need beyond the sales rows.
pub(crate) async fn attach_side_data(
    _state: &AppState,
    loaded: Vec<(SeriesKey, SeriesInput)>,
    _start: NaiveDate,
    _end: NaiveDate,
) -> Result<Vec<(SeriesKey, SeriesInput)>, Problem> {
    Ok(loaded)
}

/// Fits a feature-aware model on the fold's training rows and forecasts
/// its test rows.
pub(crate) fn forecast_fold(
    _forecaster: &dyn Forecaster,
    _input: &SeriesInput,
    _fold: &Fold,
    _seed: u64,
) -> Result<Vec<f64>, CoreError> {
    Err(CoreError::Unsupported(
        "feature-aware backtests are not available yet".into(),
    ))
}
