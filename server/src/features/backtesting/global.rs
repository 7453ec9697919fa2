//! The global main model of a many-series backtest (`config.global_model`):
//! one fit per fold across every selected series, then each series'
//! test rows forecast from that fit.
//!
//! Folds are cut by the same splitter on the common date axis (every date
//! any selected series has a row on), so all series share each fold's
//! training cutoff and test window and no series' training rows reach past
//! another's cutoff. Each axis fold is mapped to every series' own rows by
//! date; a series with fewer than 30 training rows or no test row in a
//! fold sits that fold out. Baselines run per series on the very same
//! per-series folds, so the comparison stays like for like.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use forecastlab_core::{
    backtest::{self, Fold, SplitSpec},
    frame::{FrameSpec, MIN_TRAINING_ROWS},
    global::{self, GlobalInput},
    CoreError, Forecaster, SeriesKey, TrainingData,
};
use rayon::prelude::*;

use super::feature_aware::{forecast_test_rows, training_rows, SeriesInput};

/// A series' folds and the global model's predictions of their test rows.
#[derive(Debug)]
struct SeriesFolds {
    folds: Vec<Fold>,
    /// One entry per fold, in fold order.
    predictions: Vec<Result<Vec<f64>, CoreError>>,
}

/// Everything a global run produced, looked up per series.
#[derive(Debug)]
pub(crate) struct GlobalRun {
    series: HashMap<SeriesKey, SeriesFolds>,
    /// The axis folds train strictly before they test, `gap` dates apart.
    pub(crate) leakage_ok: bool,
}

impl GlobalRun {
    /// The folds of series `key` (empty when it takes part in none).
    pub(crate) fn folds(&self, key: SeriesKey) -> Vec<Fold> {
        self.series
            .get(&key)
            .map(|s| s.folds.clone())
            .unwrap_or_default()
    }

    /// The global model's predictions of fold `index` of series `key`.
    pub(crate) fn predictions(&self, key: SeriesKey, index: usize) -> Result<Vec<f64>, CoreError> {
        let series = self
            .series
            .get(&key)
            .ok_or_else(|| CoreError::input("series is not part of the global fit"))?;
        series
            .folds
            .iter()
            .position(|fold| fold.index == index)
            .and_then(|at| series.predictions.get(at))
            .cloned()
            .unwrap_or_else(|| Err(CoreError::input("fold is not part of the global fit")))
    }
}

/// Rows of `dates` inside `[first, last]`.
fn rows_between(dates: &[NaiveDate], first: NaiveDate, last: NaiveDate) -> std::ops::Range<usize> {
    dates.partition_point(|d| *d < first)..dates.partition_point(|d| *d <= last)
}

/// The axis folds mapped onto one series' rows.
fn series_folds(dates: &[NaiveDate], axis: &[NaiveDate], axis_folds: &[Fold]) -> Vec<Fold> {
    axis_folds
        .iter()
        .filter_map(|fold| {
            let train = rows_between(dates, axis[fold.train.start], axis[fold.train.end - 1]);
            let test = rows_between(dates, axis[fold.test.start], axis[fold.test.end - 1]);
            (train.len() >= MIN_TRAINING_ROWS && !test.is_empty()).then_some(Fold {
                index: fold.index,
                train,
                test,
            })
        })
        .collect()
}

/// Fits `forecaster` once per fold across `loaded` and forecasts every
/// series' test rows. `categories` maps product ids to their category;
/// `check` is called between folds and may cancel.
pub(crate) fn run(
    forecaster: &dyn Forecaster,
    loaded: &[(SeriesKey, SeriesInput)],
    categories: &HashMap<i64, String>,
    spec: &SplitSpec,
    seed: u64,
    check: &(dyn Fn() -> Result<(), CoreError> + Sync),
) -> Result<GlobalRun, CoreError> {
    let axis: Vec<NaiveDate> = loaded
        .iter()
        .flat_map(|(_, input)| input.dates().iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let axis_folds = backtest::split(axis.len(), spec)?;
    let mut series: HashMap<SeriesKey, SeriesFolds> = loaded
        .iter()
        .map(|(key, input)| {
            let folds = series_folds(input.dates(), &axis, &axis_folds);
            let predictions = Vec::with_capacity(folds.len());
            (*key, SeriesFolds { folds, predictions })
        })
        .collect();
    for axis_fold in &axis_folds {
        check()?;
        let members: Vec<(&SeriesInput, Fold)> = loaded
            .iter()
            .filter_map(|(key, input)| {
                series[key]
                    .folds
                    .iter()
                    .find(|f| f.index == axis_fold.index)
                    .map(|fold| (input, fold.clone()))
            })
            .collect();
        let outcomes = fold_predictions(forecaster, &members, categories, seed);
        for ((input, _), outcome) in members.iter().zip(outcomes) {
            if let Some(entry) = series.get_mut(&input.key()) {
                entry.predictions.push(outcome);
            }
        }
    }
    Ok(GlobalRun {
        series,
        leakage_ok: backtest::leakage_check(&axis_folds, spec.gap, &axis),
    })
}

/// One fold: the global fit on every member's training rows, then each
/// member's test-row forecast (one result per member, in order).
fn fold_predictions(
    forecaster: &dyn Forecaster,
    members: &[(&SeriesInput, Fold)],
    categories: &HashMap<i64, String>,
    seed: u64,
) -> Vec<Result<Vec<f64>, CoreError>> {
    let trains: Vec<Result<_, CoreError>> = members
        .iter()
        .map(|(input, fold)| training_rows(input, fold))
        .collect();
    let inputs: Vec<GlobalInput<'_>> = trains
        .iter()
        .filter_map(|train| train.as_ref().ok())
        .map(|data| GlobalInput {
            data,
            category: categories.get(&data.key.product_id).map(String::as_str),
        })
        .collect();
    let fitted = global::build_training(&FrameSpec::v1(), &inputs).and_then(|training| {
        let fitted = forecaster.fit_point(&TrainingData {
            target: &training.y,
            features: Some(&training.x),
            seed,
        })?;
        Ok((training, fitted))
    });
    let (training, fitted) = match fitted {
        Ok(done) => done,
        Err(error) => return members.iter().map(|_| Err(error.clone())).collect(),
    };
    let states: HashMap<SeriesKey, &global::GlobalSeries> =
        training.series.iter().map(|s| (s.key, s)).collect();
    members
        .par_iter()
        .zip(&trains)
        .map(|((input, fold), train)| {
            let train = train.as_ref().map_err(Clone::clone)?;
            let state = states.get(&input.key()).ok_or_else(|| {
                let reason = training
                    .skipped
                    .iter()
                    .find(|s| s.key == input.key())
                    .map_or_else(|| "not fitted".to_owned(), |s| s.reason.clone());
                CoreError::input(reason)
            })?;
            forecast_test_rows(input, fold, &state.metadata, |future| {
                global::forecast_series(fitted.as_ref(), state, future, Some(train))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;

    fn day(offset: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset)
    }

    #[test]
    fn axis_folds_map_to_each_series_by_date() {
        let axis: Vec<NaiveDate> = (0..100).map(day).collect();
        let folds = vec![
            Fold {
                index: 0,
                train: 0..60,
                test: 60..70,
            },
            Fold {
                index: 1,
                train: 0..70,
                test: 70..80,
            },
        ];
        // A series starting on day 20 and missing days 60..65.
        let dates: Vec<NaiveDate> = (20..100)
            .filter(|d| !(60..65).contains(d))
            .map(day)
            .collect();
        let mapped = series_folds(&dates, &axis, &folds);
        assert_eq!(mapped.len(), 2);
        assert_eq!(mapped[0].train, 0..40);
        assert_eq!(dates[mapped[0].test.start], day(65));
        assert_eq!(mapped[0].test.len(), 5);
        assert_eq!(dates[mapped[1].train.end - 1], day(69));
        // Too short a history for the first fold: it is sat out.
        let late: Vec<NaiveDate> = (40..100).map(day).collect();
        let mapped = series_folds(&late, &axis, &folds);
        assert_eq!(mapped.iter().map(|f| f.index).collect::<Vec<_>>(), [1]);
    }
}
