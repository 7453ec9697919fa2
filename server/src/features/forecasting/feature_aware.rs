//! The data path of feature-aware models (regression, prophet_like,
//! lightgbm, xgboost, random_forest): load what a series' frame needs from
//! the database and call the time-safe frame builders of
//! `forecastlab_core::frame`.
//!
//! * [`build_training_set`] — the training `(X, y)` of a V1 or V2 frame for
//!   `[start, end]`, plus the metadata the fitted model must carry.
//! * [`forecast_feature_aware`] — a forecast over a horizon from a fitted
//!   model and its metadata, with the `direct` (NaN-where-future) or
//!   `recursive` strategy. Future calendar values come from the date; future
//!   prices from `price_history` rows valid in the window, else the last
//!   known price; future promotions from `promotion` rows covering the day;
//!   holidays from the calendar table.
//!
//! CPU work runs on the blocking pool.

use std::sync::Arc;

use chrono::NaiveDate;
use forecastlab_core::{
    frame::{
        self, FeatureAwareMetadata, FrameGroup, FrameSpec, FutureInputs, MultiStepStrategy,
        SeriesData, TrainingFrame,
    },
    CoreError, FittedModel, Forecast, SeriesKey,
};

use crate::{
    data::series_data::{load_series_data, SideTables},
    db::Db,
    problem::Problem,
};

/// Side tables a frame reads.
pub fn side_tables(spec: &FrameSpec) -> SideTables {
    if spec.version == 1 {
        return SideTables {
            product: true,
            promotions: true,
            price_history: true,
            holidays: true,
            ..SideTables::none()
        };
    }
    let has = |group: FrameGroup| spec.groups.contains(&group);
    SideTables {
        product: has(FrameGroup::Lifecycle),
        promotions: has(FrameGroup::PricePromo),
        price_history: has(FrameGroup::PricePromo),
        holidays: has(FrameGroup::Calendar),
        inventory: has(FrameGroup::Inventory),
        replenishment: has(FrameGroup::Replenishment),
        returns: has(FrameGroup::Returns),
        exogenous: has(FrameGroup::ExogenousWeather) || has(FrameGroup::ExogenousMacro),
    }
}

fn core_problem(error: CoreError) -> Problem {
    match error {
        // Config errors here come from the train request's frame selection,
        // which the route has already validated: anything left is a 400.
        CoreError::InvalidConfig(message) => Problem::bad_request(message),
        other => Problem::from(other),
    }
}

/// Loads `[start, end]` of a series with the side tables the frame needs
/// and builds its training matrix. Fewer than 30 rows → 400; an invalid
/// frame selection (unknown or empty groups, groups with version 1) → 400.
pub async fn build_training_set(
    db: &Db,
    key: SeriesKey,
    start: NaiveDate,
    end: NaiveDate,
    version: u8,
    groups: Option<&[String]>,
) -> Result<TrainingFrame, Problem> {
    let spec = FrameSpec::from_request(version, groups).map_err(core_problem)?;
    let data = load_series_data(db, key, start, end, end, side_tables(&spec)).await?;
    build_checked(spec, data, start, end).await
}

/// The side tables [`build_training_set`] loads for a frame version and
/// groups, or the 400 of a frame selection that does not exist.
pub fn training_tables(version: u8, groups: Option<&[String]>) -> Result<SideTables, Problem> {
    FrameSpec::from_request(version, groups)
        .map(|spec| side_tables(&spec))
        .map_err(core_problem)
}

/// [`build_training_set`] on a series loaded by the caller over
/// `[start, end]` with the [`training_tables`] of the frame.
pub async fn build_training_set_loaded(
    data: SeriesData,
    start: NaiveDate,
    end: NaiveDate,
    version: u8,
    groups: Option<&[String]>,
) -> Result<TrainingFrame, Problem> {
    let spec = FrameSpec::from_request(version, groups).map_err(core_problem)?;
    build_checked(spec, data, start, end).await
}

/// Builds the training frame when the series has enough rows, else the
/// 400 naming the series and its window.
async fn build_checked(
    spec: FrameSpec,
    data: SeriesData,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<TrainingFrame, Problem> {
    if data.len() < frame::MIN_TRAINING_ROWS {
        return Err(Problem::bad_request(format!(
            "Need at least {} observations for a feature-aware model, got {} \
             (store_id={}, product_id={}, {start}..{end})",
            frame::MIN_TRAINING_ROWS,
            data.len(),
            data.key.store_id,
            data.key.product_id
        )));
    }
    build_training_set_from(spec, data).await
}

/// [`build_training_set`] for a series already in memory (backtest folds
/// pass the training part of a loaded series: `series.until(train_end)`).
pub async fn build_training_set_from(
    spec: FrameSpec,
    data: SeriesData,
) -> Result<TrainingFrame, Problem> {
    tokio::task::spawn_blocking(move || frame::build_training_frame(&spec, &data))
        .await?
        .map_err(core_problem)
}

/// Loads the known future inputs of `horizon` days after `origin` (listed
/// prices, planned promotions, calendar holidays, recorded exogenous
/// signals) and the observed side data up to `origin` the frame's j = 1
/// columns read.
pub async fn load_future_inputs(
    db: &Db,
    key: SeriesKey,
    metadata: &FeatureAwareMetadata,
    origin: NaiveDate,
    horizon: usize,
) -> Result<(FutureInputs, SeriesData), Problem> {
    let spec = metadata.frame_spec().map_err(core_problem)?;
    let horizon_end = FutureInputs::horizon_dates(origin, horizon)
        .map_err(core_problem)?
        .last()
        .copied()
        .unwrap_or(origin);
    let tail_start = metadata
        .history_tail_dates
        .first()
        .copied()
        .unwrap_or(origin)
        .min(origin);
    let mut tables = side_tables(&spec);
    // Future prices need the listed prices even when price_promo is off.
    tables.price_history = true;
    tables.promotions = true;
    tables.holidays = true;
    tables.product = false;
    let history = load_series_data(db, key, tail_start, origin, horizon_end, tables).await?;
    let future = FutureInputs::known(
        &history,
        origin,
        horizon,
        metadata.baseline_price,
        metadata.last_price,
    )
    .map_err(core_problem)?;
    Ok((future, history))
}

/// Forecasts `horizon` days after `origin` (normally the training end date)
/// with a fitted feature-aware model and its metadata.
pub async fn forecast_feature_aware(
    db: &Db,
    model: Arc<dyn FittedModel>,
    metadata: &FeatureAwareMetadata,
    key: SeriesKey,
    origin: NaiveDate,
    horizon: usize,
    strategy: MultiStepStrategy,
) -> Result<Forecast, Problem> {
    let (future, history) = load_future_inputs(db, key, metadata, origin, horizon).await?;
    let metadata = metadata.clone();
    tokio::task::spawn_blocking(move || {
        frame::forecast(model.as_ref(), &metadata, &future, strategy, Some(&history))
    })
    .await?
    .map_err(core_problem)
}
