//! Global models: one feature-aware model fitted once across many series
//! (the approach of the M5 winners and of mlforecast), then asked for each
//! series' forecast from that one fit.
//!
//! The training matrix stacks every series' feature frame ([`FrameSpec`])
//! row by row, ordered by date (so a held-out calibration tail is the last
//! dates of every series, not the last series). Two things make the rows of
//! different series comparable:
//!
//! * **Local scaling.** Each series' target and target-derived columns
//!   (`lag_*`, same-weekday and rolling means) are divided by the series'
//!   scale — the mean of its training target — so the trees learn shapes
//!   (weekly profile, promotion lift, holiday effect) shared by series of
//!   any volume; forecasts are multiplied back.
//! * **Series-level columns** ([`SERIES_COLUMNS`]): store, product and
//!   category codes, the log of the scale, and time-safe target encodings —
//!   `log(1 + mean)` of the series', its store's, its product's and its
//!   category's targets over the dates strictly before the row (for future
//!   rows: over every date up to the origin). No encoding reads the row's
//!   own date or a later one.
//!
//! Multi-step forecasts are recursive ([`MultiStepStrategy::Recursive`]):
//! each step's prediction fills the lags of the following steps of the
//! same series.

mod encoding;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    frame::{self, FeatureAwareMetadata, FrameSpec, FutureInputs, MultiStepStrategy, SeriesData},
    CoreError, FeatureMatrix, FittedModel, Forecast, PredictRequest, SeriesKey,
};

pub use encoding::Encodings;

/// The series-level columns appended to every row, in order.
pub const SERIES_COLUMNS: [&str; 8] = [
    "store_code",
    "product_code",
    "category_code",
    "log_scale",
    "te_series",
    "te_store",
    "te_product",
    "te_category",
];

/// Prefixes of the frame columns that carry target units (scaled by the
/// series' scale).
const TARGET_UNIT_PREFIXES: [&str; 5] = [
    "lag_",
    "same_dow_mean_",
    "rolling_mean_",
    "rolling_median_",
    "rolling_std_",
];

/// One series handed to a global model: its data and its category.
#[derive(Debug, Clone)]
pub struct GlobalInput<'a> {
    /// Rows and side tables (training rows only, when fitting).
    pub data: &'a SeriesData,
    /// Product category (`None` when unknown).
    pub category: Option<&'a str>,
}

/// What forecasting one series from the shared fit needs: its frame
/// metadata (history tail, prices, lifecycle dates), its scale and its
/// series-level column values frozen at the origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalSeries {
    /// Which series.
    pub key: SeriesKey,
    /// Mean of the training target (1 when it is not positive).
    pub scale: f64,
    /// Values of [`SERIES_COLUMNS`] for rows after the origin (NaN =
    /// unknown, `null` in JSON).
    #[serde(with = "nan_as_null")]
    pub series_features: Vec<f64>,
    /// The series' frame metadata.
    pub metadata: FeatureAwareMetadata,
}

/// A series a global fit could not use, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedSeries {
    /// Which series.
    pub key: SeriesKey,
    /// Why (too few rows, inconsistent data).
    pub reason: String,
}

/// The stacked training matrix of a global model.
#[derive(Debug, Clone)]
pub struct GlobalTraining {
    /// Frame columns (target-unit ones scaled) then [`SERIES_COLUMNS`].
    pub x: FeatureMatrix,
    /// Scaled target per row.
    pub y: Vec<f64>,
    /// Date per row (ascending).
    pub dates: Vec<NaiveDate>,
    /// One entry per series used, in input order.
    pub series: Vec<GlobalSeries>,
    /// Series left out.
    pub skipped: Vec<SkippedSeries>,
}

/// One stacked row: its date, its feature values and its scaled target.
type StackedRow = (NaiveDate, Vec<f64>, f64);

/// The columns a global model is fitted on for `spec`.
pub fn columns(spec: &FrameSpec) -> Vec<String> {
    let mut columns = spec.columns();
    columns.extend(SERIES_COLUMNS.iter().map(|c| (*c).to_owned()));
    columns
}

fn scale_of(target: &[f64]) -> f64 {
    let finite: Vec<f64> = target.iter().copied().filter(|v| v.is_finite()).collect();
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    if mean > 0.0 {
        mean
    } else {
        1.0
    }
}

/// Which of `columns` carry target units.
fn target_unit_mask(columns: &[String]) -> Vec<bool> {
    columns
        .iter()
        .map(|c| TARGET_UNIT_PREFIXES.iter().any(|p| c.starts_with(p)))
        .collect()
}

/// Builds the stacked training matrix of `inputs` on `spec`'s frame.
/// Series too short for a frame are skipped (listed in
/// [`GlobalTraining::skipped`]); none usable is an error.
pub fn build_training(
    spec: &FrameSpec,
    inputs: &[GlobalInput<'_>],
) -> Result<GlobalTraining, CoreError> {
    let frames: Vec<Result<frame::TrainingFrame, CoreError>> = inputs
        .par_iter()
        .map(|input| frame::build_training_frame(spec, input.data))
        .collect();
    let mut used = Vec::new();
    let mut skipped = Vec::new();
    for (input, built) in inputs.iter().zip(frames) {
        match built {
            Ok(training) => used.push((input, training)),
            Err(error) => skipped.push(SkippedSeries {
                key: input.data.key,
                reason: error.to_string(),
            }),
        }
    }
    if used.is_empty() {
        let reasons: Vec<String> = skipped.iter().take(3).map(|s| s.reason.clone()).collect();
        return Err(CoreError::input(format!(
            "no series has enough rows for a global model ({})",
            reasons.join("; ")
        )));
    }
    let histories: Vec<(&SeriesData, Option<&str>)> = used
        .iter()
        .map(|(input, _)| (input.data, input.category))
        .collect();
    let encodings = Encodings::new(&histories);
    let frame_columns = spec.columns();
    let mask = target_unit_mask(&frame_columns);
    let all_columns = columns(spec);
    let width = all_columns.len();

    // Rows of every series, each with its series-level columns, then sorted
    // by date (stable: series order within a date).
    let per_series: Vec<(Vec<StackedRow>, GlobalSeries)> = used
        .par_iter()
        .enumerate()
        .map(|(s, (input, training))| {
            let scale = scale_of(&training.y);
            let rows = training
                .x
                .rows()
                .zip(&training.y)
                .zip(&training.dates)
                .map(|((row, y), date)| {
                    let mut values = Vec::with_capacity(width);
                    values.extend(
                        row.iter()
                            .zip(&mask)
                            .map(|(v, scaled)| if *scaled { v / scale } else { *v }),
                    );
                    values.extend(encodings.row(s, *date, scale));
                    (*date, values, y / scale)
                })
                .collect();
            let origin = training.dates.last().copied().unwrap_or_default();
            let state = GlobalSeries {
                key: input.data.key,
                scale,
                series_features: encodings.after(s, origin, scale).to_vec(),
                metadata: training.metadata.clone(),
            };
            (rows, state)
        })
        .collect();
    let mut rows: Vec<StackedRow> = Vec::new();
    let mut series = Vec::with_capacity(per_series.len());
    for (series_rows, state) in per_series {
        rows.extend(series_rows);
        series.push(state);
    }
    rows.sort_by_key(|(date, _, _)| *date);
    let mut values = Vec::with_capacity(rows.len() * width);
    let mut y = Vec::with_capacity(rows.len());
    let mut dates = Vec::with_capacity(rows.len());
    for (date, row, target) in rows {
        values.extend(row);
        y.push(target);
        dates.push(date);
    }
    Ok(GlobalTraining {
        x: FeatureMatrix::from_row_major(all_columns, values)?,
        y,
        dates,
        series,
        skipped,
    })
}

/// Forecasts `future.len()` days after `series`' origin with the shared
/// fitted model, recursively. `history` supplies observed side data up to
/// the origin, as for a per-series model.
pub fn forecast_series(
    model: &dyn FittedModel,
    series: &GlobalSeries,
    future: &FutureInputs,
    history: Option<&SeriesData>,
) -> Result<Forecast, CoreError> {
    let frame_columns = series.metadata.feature_columns.clone();
    let mask = target_unit_mask(&frame_columns);
    let mut all_columns = frame_columns;
    all_columns.extend(SERIES_COLUMNS.iter().map(|c| (*c).to_owned()));
    let scale = series.scale;
    frame::forecast_with(
        |x| {
            let mut values = Vec::with_capacity(x.n_rows() * all_columns.len());
            for row in x.rows() {
                values.extend(
                    row.iter()
                        .zip(&mask)
                        .map(|(v, scaled)| if *scaled { v / scale } else { *v }),
                );
                values.extend_from_slice(&series.series_features);
            }
            let matrix = FeatureMatrix::from_row_major(all_columns.clone(), values)?;
            let forecast = model.predict(&PredictRequest {
                horizon: matrix.n_rows(),
                features: Some(&matrix),
                interval_level: None,
            })?;
            Ok(forecast.point.iter().map(|p| p * scale).collect())
        },
        &series.metadata,
        future,
        MultiStepStrategy::Recursive,
        history,
    )
}

/// Serde for `Vec<f64>` with NaN written as `null` (JSON has no NaN).
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        values: &[f64],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let options: Vec<Option<f64>> =
            values.iter().map(|v| v.is_finite().then_some(*v)).collect();
        options.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<f64>, D::Error> {
        let options: Vec<Option<f64>> = Vec::deserialize(deserializer)?;
        Ok(options.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}
