//! Per-fold evaluation: predictions against the test window, metrics per
//! fold and per horizon bucket, and their aggregation across folds.
//!
//! Predictors are plain closures `Fn(&Fold) -> Result<Vec<f64>, CoreError>`,
//! so target-only models, feature-aware models (which rebuild their features
//! inside the closure from the fold's training rows) and test doubles all
//! run through the same code. Every predictor of one series sees exactly the
//! same folds; the (model, fold) pairs run in parallel on the rayon pool.

use chrono::NaiveDate;
use rayon::prelude::*;

use super::{buckets::HorizonBucket, splitter::Fold};
use crate::{
    metrics::{self, MetricSums, Metrics, Scale},
    CoreError, Forecaster, PredictRequest, TrainingData,
};

/// A predictor: the forecasts for a fold's test rows, fitted on its
/// training rows only.
pub type Predictor<'a> = dyn Fn(&Fold) -> Result<Vec<f64>, CoreError> + Sync + 'a;

/// Per-bucket metric sums (`None` = no point fell in that bucket).
pub type BucketSums = [Option<MetricSums>; 4];

/// The evaluation of one model on one fold.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldOutcome {
    /// The fold.
    pub fold: Fold,
    /// One prediction per test row.
    pub predictions: Vec<f64>,
    /// Metric sums over the test rows.
    pub sums: MetricSums,
    /// Metrics over the test rows.
    pub metrics: Metrics,
    /// Metric sums per horizon bucket.
    pub buckets: BucketSums,
}

impl FoldOutcome {
    /// Metrics of every non-empty bucket, in bucket order.
    pub fn bucket_metrics(&self) -> Vec<(HorizonBucket, Metrics)> {
        bucket_metrics(&self.buckets)
    }
}

/// The evaluation of one model on every fold of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOutcome {
    /// One outcome per fold, in fold order.
    pub folds: Vec<FoldOutcome>,
    /// Per-metric mean over the folds (NaN skipped).
    pub aggregated: Metrics,
    /// Per-metric stability index over the folds.
    pub stability: Metrics,
    /// Per bucket, the mean of each metric over the folds that reported the
    /// bucket; `None` when no fold had any bucket.
    pub bucketed: Option<Vec<(HorizonBucket, Metrics)>>,
    /// Sums over every test point of every fold (for pooling).
    pub pooled: MetricSums,
    /// Sums per bucket over every fold (for pooling).
    pub pooled_buckets: BucketSums,
}

/// Metrics of the non-empty buckets, in bucket order.
pub fn bucket_metrics(buckets: &BucketSums) -> Vec<(HorizonBucket, Metrics)> {
    HorizonBucket::ALL
        .iter()
        .zip(buckets)
        .filter_map(|(bucket, sums)| sums.map(|s| (*bucket, s.metrics())))
        .collect()
}

/// Adds `other` into `into`, bucket by bucket.
pub fn merge_buckets(into: &mut BucketSums, other: &BucketSums) {
    for (slot, sums) in into.iter_mut().zip(other) {
        if let Some(sums) = sums {
            slot.get_or_insert_with(MetricSums::default).merge(sums);
        }
    }
}

/// Evaluates `predictions` for `fold`: `dates` and `actual` cover the whole
/// series. MASE and RMSSE are scaled by the seasonal naive errors of the
/// fold's training rows.
pub fn evaluate_fold(
    fold: &Fold,
    dates: &[NaiveDate],
    actual: &[f64],
    predictions: Vec<f64>,
) -> Result<FoldOutcome, CoreError> {
    let test_actual = actual
        .get(fold.test.clone())
        .ok_or_else(|| CoreError::input("fold test window lies outside the series"))?;
    let test_dates = dates
        .get(fold.test.clone())
        .ok_or_else(|| CoreError::input("fold test window lies outside the dates"))?;
    let train = actual
        .get(fold.train.clone())
        .ok_or_else(|| CoreError::input("fold training window lies outside the series"))?;
    let scale = Scale::seasonal_naive(train, metrics::SCALE_SEASON);
    let sums = MetricSums::from_slices_scaled(test_actual, &predictions, scale)?;
    let mut buckets: BucketSums = [None; 4];
    if let Some(first) = test_dates.first() {
        for ((date, &a), &f) in test_dates.iter().zip(test_actual).zip(&predictions) {
            let offset = (*date - *first).num_days() + 1;
            if let Some(bucket) = HorizonBucket::of(offset) {
                buckets[bucket.position()]
                    .get_or_insert_with(MetricSums::default)
                    .push_scaled(a, f, scale);
            }
        }
    }
    Ok(FoldOutcome {
        fold: fold.clone(),
        predictions,
        metrics: sums.metrics(),
        sums,
        buckets,
    })
}

/// Aggregates fold outcomes (in fold order) into a model outcome.
pub fn summarize(folds: Vec<FoldOutcome>) -> ModelOutcome {
    let per_fold: Vec<Metrics> = folds.iter().map(|f| f.metrics).collect();
    let mut pooled = MetricSums::default();
    let mut pooled_buckets: BucketSums = [None; 4];
    for fold in &folds {
        pooled.merge(&fold.sums);
        merge_buckets(&mut pooled_buckets, &fold.buckets);
    }
    let mut bucketed = Vec::new();
    for bucket in HorizonBucket::ALL {
        let reported: Vec<Metrics> = folds
            .iter()
            .filter_map(|f| f.buckets[bucket.position()].map(|s| s.metrics()))
            .collect();
        if reported.is_empty() {
            continue;
        }
        let mean = metrics::aggregate(&reported);
        if mean.to_array().iter().any(|v| !v.is_nan()) {
            bucketed.push((bucket, mean));
        }
    }
    ModelOutcome {
        aggregated: metrics::aggregate(&per_fold),
        stability: metrics::stability(&per_fold),
        bucketed: (!bucketed.is_empty()).then_some(bucketed),
        pooled,
        pooled_buckets,
        folds,
    }
}

/// Runs every predictor on every fold of one series, all (predictor, fold)
/// pairs in parallel. Returns one result per predictor, in order: a
/// predictor that fails on any fold yields its first error.
pub fn evaluate_models(
    dates: &[NaiveDate],
    actual: &[f64],
    folds: &[Fold],
    predictors: &[&Predictor<'_>],
) -> Vec<Result<ModelOutcome, CoreError>> {
    let tasks: Vec<(usize, &Fold)> = (0..predictors.len())
        .flat_map(|m| folds.iter().map(move |fold| (m, fold)))
        .collect();
    let mut outcomes: Vec<(usize, Result<FoldOutcome, CoreError>)> = tasks
        .into_par_iter()
        .map(|(m, fold)| {
            let outcome = predictors[m](fold)
                .and_then(|predictions| evaluate_fold(fold, dates, actual, predictions));
            (m, outcome)
        })
        .collect();
    let mut per_model: Vec<Result<Vec<FoldOutcome>, CoreError>> =
        (0..predictors.len()).map(|_| Ok(Vec::new())).collect();
    for (m, outcome) in outcomes.drain(..) {
        match (&mut per_model[m], outcome) {
            (Ok(list), Ok(fold)) => list.push(fold),
            (slot @ Ok(_), Err(error)) => *slot = Err(error),
            (Err(_), _) => {}
        }
    }
    per_model
        .into_iter()
        .map(|folds| folds.map(summarize))
        .collect()
}

/// Runs one predictor on every fold (folds in parallel).
pub fn evaluate_model(
    dates: &[NaiveDate],
    actual: &[f64],
    folds: &[Fold],
    predictor: &Predictor<'_>,
) -> Result<ModelOutcome, CoreError> {
    evaluate_models(dates, actual, folds, &[predictor])
        .pop()
        .unwrap_or_else(|| Err(CoreError::input("no predictor")))
}

/// The target-only fold forecast: fit on the fold's training rows of
/// `target`, forecast `gap + test` steps from the end of training and keep
/// the last `test` of them, so step k is compared with the row k days after
/// the origin even when a gap separates training and test.
pub fn target_only_forecast(
    forecaster: &dyn Forecaster,
    target: &[f64],
    fold: &Fold,
    seed: u64,
) -> Result<Vec<f64>, CoreError> {
    let train = target
        .get(fold.train.clone())
        .ok_or_else(|| CoreError::input("fold training window lies outside the series"))?;
    let fitted = forecaster.fit_point(&TrainingData::target_only(train, seed))?;
    let gap = fold.gap();
    let steps = gap + fold.test.len();
    let mut forecast = fitted.predict(&PredictRequest::horizon(steps))?.point;
    if forecast.len() != steps {
        return Err(CoreError::input(format!(
            "model returned {} steps, {steps} were asked for",
            forecast.len()
        )));
    }
    forecast.drain(..gap);
    Ok(forecast)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::{split, SplitSpec, SplitStrategy};
    use crate::{FittedModel, Forecast};

    fn days(n: usize) -> Vec<NaiveDate> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (0..n)
            .map(|i| start + chrono::Days::new(i as u64))
            .collect()
    }

    /// Repeats the last value (like the naive plugin).
    #[derive(Debug)]
    struct Last;
    #[derive(Debug)]
    struct FittedLast(f64);
    impl Forecaster for Last {
        fn model_type(&self) -> &'static str {
            "last"
        }
        fn config_json(&self) -> serde_json::Value {
            serde_json::json!({"model_type": "last"})
        }
        fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
            let last = *data
                .target
                .last()
                .ok_or_else(|| CoreError::insufficient("last", 1, 0))?;
            Ok(Box::new(FittedLast(last)))
        }
    }
    impl FittedModel for FittedLast {
        fn model_type(&self) -> &'static str {
            "last"
        }
        fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
            Ok(Forecast::point(vec![self.0; request.horizon]))
        }
        fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
            Ok(Vec::new())
        }
    }

    /// Forecasts the value `season` rows back (seasonal naive, period 7).
    #[derive(Debug)]
    struct Weekly;
    #[derive(Debug)]
    struct FittedWeekly(Vec<f64>);
    impl Forecaster for Weekly {
        fn model_type(&self) -> &'static str {
            "weekly"
        }
        fn config_json(&self) -> serde_json::Value {
            serde_json::json!({"model_type": "weekly"})
        }
        fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
            let n = data.target.len();
            if n < 7 {
                return Err(CoreError::insufficient("weekly", 7, n));
            }
            Ok(Box::new(FittedWeekly(data.target[n - 7..].to_vec())))
        }
    }
    impl FittedModel for FittedWeekly {
        fn model_type(&self) -> &'static str {
            "weekly"
        }
        fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
            Ok(Forecast::point(
                (0..request.horizon).map(|h| self.0[h % 7]).collect(),
            ))
        }
        fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
            Ok(Vec::new())
        }
    }

    fn weekly_series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0][i % 7])
            .collect()
    }

    fn spec(n_splits: usize, gap: usize, horizon: usize) -> SplitSpec {
        SplitSpec {
            strategy: SplitStrategy::Expanding,
            n_splits,
            min_train_size: 30,
            gap,
            horizon,
        }
    }

    #[test]
    fn fold_metrics_and_buckets() {
        let dates = days(10);
        let actual: Vec<f64> = (0..10).map(f64::from).collect();
        let fold = Fold {
            index: 0,
            train: 0..2,
            test: 2..10,
        };
        // Errors: predictions are actual + 1 for the first 7 days, +3 after.
        let predictions: Vec<f64> = (2..10)
            .map(|i| f64::from(i) + if i < 9 { 1.0 } else { 3.0 })
            .collect();
        let outcome = evaluate_fold(&fold, &dates, &actual, predictions).unwrap();
        assert_eq!(outcome.metrics.mae, (7.0 + 3.0) / 8.0);
        let buckets = outcome.bucket_metrics();
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets[0].0, HorizonBucket::H1To7);
        assert_eq!(buckets[0].1.mae, 1.0);
        assert_eq!(buckets[1].0, HorizonBucket::H8To14);
        assert_eq!(buckets[1].1.bias, -3.0);
    }

    #[test]
    fn buckets_follow_calendar_offsets_not_positions() {
        // Test rows on day 1, 7, 8, 14, 15, 28, 29 after the origin.
        let start = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let offsets = [0u64, 6, 7, 13, 14, 27, 28];
        let mut dates = vec![start - chrono::Days::new(1)];
        dates.extend(offsets.iter().map(|o| start + chrono::Days::new(*o)));
        let actual = vec![0.0; dates.len()];
        let fold = Fold {
            index: 0,
            train: 0..1,
            test: 1..8,
        };
        let outcome = evaluate_fold(&fold, &dates, &actual, vec![1.0; 7]).unwrap();
        let counts: Vec<usize> = outcome
            .buckets
            .iter()
            .map(|b| b.map_or(0, |s| s.n))
            .collect();
        assert_eq!(counts, vec![2, 2, 2, 1]);
    }

    #[test]
    fn empty_buckets_are_dropped_and_absent_everywhere_is_none() {
        let dates = days(60);
        let actual = weekly_series(60);
        let folds = split(60, &spec(2, 0, 5)).unwrap();
        let outcome = evaluate_model(&dates, &actual, &folds, &|fold: &Fold| {
            target_only_forecast(&Last, &actual, fold, 42)
        })
        .unwrap();
        let bucketed = outcome.bucketed.unwrap();
        assert_eq!(bucketed.len(), 1);
        assert_eq!(bucketed[0].0, HorizonBucket::H1To7);
        let empty = summarize(Vec::new());
        assert!(empty.bucketed.is_none());
        assert!(empty.aggregated.mae.is_nan());
    }

    #[test]
    fn seasonal_beats_last_on_a_weekly_pattern() {
        let n = 120;
        let dates = days(n);
        let actual = weekly_series(n);
        let folds = split(n, &spec(5, 0, 14)).unwrap();
        let last = |fold: &Fold| target_only_forecast(&Last, &actual, fold, 42);
        let weekly = |fold: &Fold| target_only_forecast(&Weekly, &actual, fold, 42);
        let results = evaluate_models(&dates, &actual, &folds, &[&last, &weekly]);
        let last = results[0].as_ref().unwrap();
        let weekly = results[1].as_ref().unwrap();
        assert_eq!(weekly.aggregated.mae, 0.0);
        assert!(last.aggregated.mae > 10.0);
        assert_eq!(last.folds.len(), 5);
        assert_eq!(weekly.pooled.n, 5 * 14);
        let fold_buckets: Vec<_> = weekly.folds[0].bucket_metrics();
        assert_eq!(fold_buckets.len(), 2);
    }

    #[test]
    fn gap_keeps_forecasts_aligned_with_their_dates() {
        let n = 120;
        let dates = days(n);
        let actual = weekly_series(n);
        // A gap of 3 (not a multiple of 7): seasonal naive stays exact only
        // when step k is matched with the row k days after the origin.
        let folds = split(n, &spec(3, 3, 14)).unwrap();
        let outcome = evaluate_model(&dates, &actual, &folds, &|fold: &Fold| {
            target_only_forecast(&Weekly, &actual, fold, 42)
        })
        .unwrap();
        assert_eq!(outcome.aggregated.mae, 0.0);
        assert!(outcome.folds.iter().all(|f| f.predictions.len() == 14));
    }

    #[test]
    fn a_failing_predictor_fails_alone() {
        let dates = days(60);
        let actual = weekly_series(60);
        let folds = split(60, &spec(2, 0, 7)).unwrap();
        let ok = |fold: &Fold| target_only_forecast(&Last, &actual, fold, 42);
        let failing = |_: &Fold| -> Result<Vec<f64>, CoreError> { Err(CoreError::input("boom")) };
        let wrong_length = |_: &Fold| -> Result<Vec<f64>, CoreError> { Ok(vec![1.0]) };
        let results = evaluate_models(&dates, &actual, &folds, &[&ok, &failing, &wrong_length]);
        assert!(results[0].is_ok());
        assert_eq!(results[1], Err(CoreError::input("boom")));
        assert!(results[2].is_err());
    }

    #[test]
    fn aggregation_matches_fold_means() {
        let dates = days(90);
        let actual: Vec<f64> = (0..90).map(|i| f64::from(i % 11) * 3.0 + 1.0).collect();
        let folds = split(90, &spec(4, 0, 10)).unwrap();
        let outcome = evaluate_model(&dates, &actual, &folds, &|fold: &Fold| {
            target_only_forecast(&Last, &actual, fold, 42)
        })
        .unwrap();
        let mean_mae =
            outcome.folds.iter().map(|f| f.metrics.mae).sum::<f64>() / outcome.folds.len() as f64;
        assert!((outcome.aggregated.mae - mean_mae).abs() < 1e-12);
        let pooled_mae = outcome.pooled.metrics().mae;
        // Equal-sized folds: pooled MAE equals the mean of fold MAEs.
        assert!((pooled_mae - mean_mae).abs() < 1e-12);
        for fold in &outcome.folds {
            let expected = metrics::compute_scaled(
                &actual[fold.fold.train.clone()],
                &actual[fold.fold.test.clone()],
                &fold.predictions,
            )
            .unwrap();
            assert_eq!(fold.metrics, expected);
            // The scale is the training window's seasonal naive error.
            let train = &actual[fold.fold.train.clone()];
            let scale = metrics::Scale::seasonal_naive(train, 7).unwrap();
            assert!((fold.metrics.mase - fold.metrics.mae / scale.mae).abs() < 1e-12);
            assert!(
                (fold.metrics.rmsse.powi(2) - fold.metrics.rmse.powi(2) / scale.mse).abs() < 1e-9
            );
        }
        let pooled = outcome.pooled.metrics();
        let mean_mase = outcome.folds.iter().map(|f| f.metrics.mase).sum::<f64>() / 4.0;
        assert!((pooled.mase - mean_mase).abs() < 1e-12);
    }
}
