//! Series inputs of a backtest and the feature-aware fold forecast.
//!
//! A feature-aware model is refitted inside every fold on a V1 frame built
//! from the fold's training rows only (`SeriesData::rows(train)`: lags,
//! baseline price, last price and history tail all come from those rows).
//! Its forecast origin is the last training date; the future frame sees the
//! recorded prices of the test window (exogenous policy `observed`), planned
//! promotions and calendar holidays, and a copy of the series whose targets
//! after the origin are NaN — so no test (or gap) target can reach a
//! prediction.

use chrono::NaiveDate;
use forecastlab_core::{
    backtest::Fold,
    frame::{self, FeatureAwareMetadata, FrameSpec, FutureInputs, MultiStepStrategy, SeriesData},
    CoreError, Forecast, Forecaster, SeriesKey, TrainingData,
};

use crate::{
    data::{series::SalesSeries, series_data},
    features::forecasting::feature_aware::side_tables,
    problem::Problem,
    state::AppState,
};

/// One series as a backtest sees it: its rows in date order plus, for
/// feature-aware models, the side tables their frame reads.
#[derive(Debug, Clone)]
pub(crate) struct SeriesInput {
    data: SeriesData,
}

impl SeriesInput {
    pub(crate) fn from_sales(key: SeriesKey, sales: SalesSeries) -> Self {
        Self {
            data: SeriesData::new(key, sales.dates, sales.quantity, sales.unit_price),
        }
    }

    pub(crate) fn key(&self) -> SeriesKey {
        self.data.key
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn dates(&self) -> &[NaiveDate] {
        &self.data.dates
    }

    pub(crate) fn target(&self) -> &[f64] {
        &self.data.target
    }

    /// Unit price per row (NaN when unknown).
    pub(crate) fn prices(&self) -> &[f64] {
        &self.data.price
    }
}

/// Loads the side tables of the V1 frame (product dates, promotions, price
/// history, holidays) for every non-empty series, over the request window.
pub(crate) async fn attach_side_data(
    state: &AppState,
    mut loaded: Vec<(SeriesKey, SeriesInput)>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(SeriesKey, SeriesInput)>, Problem> {
    let tables = side_tables(&FrameSpec::v1());
    for (_, input) in loaded.iter_mut().filter(|(_, input)| !input.is_empty()) {
        series_data::load_side_tables(&state.db, &mut input.data, start, end, end, tables).await?;
    }
    Ok(loaded)
}

/// Fits a feature-aware model on the fold's training rows and forecasts
/// its test rows (one value per test row, matched by date).
pub(crate) fn forecast_fold(
    forecaster: &dyn Forecaster,
    input: &SeriesInput,
    fold: &Fold,
    seed: u64,
) -> Result<Vec<f64>, CoreError> {
    let train = training_rows(input, fold)?;
    let training = frame::build_training_frame(&FrameSpec::v1(), &train)?;
    let fitted = forecaster.fit_point(&TrainingData {
        target: &training.y,
        features: Some(&training.x),
        seed,
    })?;
    forecast_test_rows(input, fold, &training.metadata, |future| {
        frame::forecast(
            fitted.as_ref(),
            &training.metadata,
            future,
            MultiStepStrategy::DEFAULT,
            Some(&train),
        )
    })
}

/// The fold's training rows of the series (side tables kept).
pub(crate) fn training_rows(input: &SeriesInput, fold: &Fold) -> Result<SeriesData, CoreError> {
    if fold.train.is_empty() || fold.test.is_empty() || fold.test.end > input.data.len() {
        return Err(CoreError::input("fold lies outside the series"));
    }
    Ok(input.data.rows(fold.train.clone()))
}

/// Runs `forecast` on the known future of the fold (from the last training
/// date to the last test date) and returns one value per test row.
pub(crate) fn forecast_test_rows<F>(
    input: &SeriesInput,
    fold: &Fold,
    metadata: &FeatureAwareMetadata,
    forecast: F,
) -> Result<Vec<f64>, CoreError>
where
    F: FnOnce(&FutureInputs) -> Result<Forecast, CoreError>,
{
    let data = &input.data;
    let origin = data.dates[fold.train.end - 1];
    let last_test = data.dates[fold.test.end - 1];
    let days = usize::try_from((last_test - origin).num_days())
        .map_err(|_| CoreError::input("test window precedes the training window"))?;
    // What the future frame may see: rows up to the end of the test window
    // (for their recorded prices), with every target after the origin
    // hidden.
    let mut visible = data.rows(0..fold.test.end);
    for target in &mut visible.target[fold.train.end..] {
        *target = f64::NAN;
    }
    let future = FutureInputs::observed(
        &visible,
        origin,
        days,
        metadata.baseline_price,
        metadata.last_price,
    )?;
    let forecast = forecast(&future)?;
    data.dates[fold.test.clone()]
        .iter()
        .map(|date| {
            let step = (*date - origin).num_days();
            usize::try_from(step - 1)
                .ok()
                .and_then(|i| forecast.point.get(i).copied())
                .ok_or_else(|| CoreError::input("forecast does not cover a test date"))
        })
        .collect()
}
