//! Backtest orchestration: validate, resolve models through the registry,
//! load the series, run every (series, model, fold) on the rayon pool inside
//! `spawn_blocking`, and shape the response.
//!
//! [`run`] is callable without HTTP (background jobs use it);
//! [`run_with_progress`] adds a progress/cancellation hook.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Instant,
};

use chrono::NaiveDate;
use forecastlab_core::{
    backtest::{self, Fold, ModelOutcome, SplitSpec},
    metrics::Metrics,
    model_config, CoreError, SeriesKey,
};
use rayon::prelude::*;
use serde_json::json;

use super::{
    candidates::{build_baselines, build_main, Candidate},
    feature_aware, global,
    pooled::{comparison_summary, Pool},
    schemas::{
        finite, BacktestRequest, BucketMetricsBody, FoldResult, ModelBacktestResult,
        SeriesBacktestResult, SeriesName, SeriesSelection, SkippedSeries, SplitBoundary,
        StabilityBody,
    },
};
use crate::{
    config::Settings,
    data::{series, series_data, series_names},
    extract,
    problem::Problem,
    state::AppState,
};

/// Called after every (model, fold) evaluation with `(done, total)`; return
/// `false` to cancel the backtest (it then fails with a 409 `CONFLICT`
/// "cancelled" problem). Called concurrently from worker threads, up to
/// `total` times: throttle any expensive work inside.
pub type ProgressHook = Arc<dyn Fn(usize, usize) -> bool + Send + Sync>;

/// Minimum training rows of a feature-aware main model.
pub const FEATURE_AWARE_MIN_TRAIN: usize = 30;

/// Runs a backtest.
pub async fn run(state: &AppState, request: BacktestRequest) -> Result<BacktestResponse, Problem> {
    run_with_progress(state, request, None).await
}

pub use super::schemas::BacktestResponse;

/// Runs a backtest, reporting progress to `progress` (which may cancel).
pub async fn run_with_progress(
    state: &AppState,
    request: BacktestRequest,
    progress: Option<ProgressHook>,
) -> Result<BacktestResponse, Problem> {
    let started = Instant::now();
    extract::validate(&request, None)?;
    let settings = &state.settings;
    let split_config = request.config.split_config;
    let spec = split_config.spec();
    check_limits(settings, &spec)?;

    let main = build_main(settings, &request.config.model_config_main)?;
    if request.config.global_model && !main.feature_aware {
        return Err(Problem::invalid_field(
            "config.global_model",
            format!(
                "Only feature-aware models can be fitted globally; '{}' is target-only.",
                main.model_type
            ),
            "value_error",
        ));
    }
    if main.feature_aware && spec.min_train_size < FEATURE_AWARE_MIN_TRAIN {
        return Err(Problem::bad_request(format!(
            "Feature-aware model '{}' needs min_train_size >= {FEATURE_AWARE_MIN_TRAIN}, got {}.",
            main.model_type, spec.min_train_size
        )));
    }
    let baselines = request.config.include_baselines.then(build_baselines);
    let config_hash = model_config::config_hash(&json!({
        "schema_version": request.config.schema_version,
        "split_config": {
            "strategy": spec.strategy.as_str(),
            "n_splits": spec.n_splits,
            "min_train_size": spec.min_train_size,
            "gap": spec.gap,
            "horizon": spec.horizon,
        },
        "model_config_main": main.forecaster.config_json(),
        "include_baselines": request.config.include_baselines,
        "store_fold_details": request.config.store_fold_details,
        "global_model": request.config.global_model,
    }));

    let single = request.series.is_none();
    let (start, end) = (request.start_date, request.end_date);
    let loaded: Vec<(SeriesKey, feature_aware::SeriesInput)> = match &request.series {
        None => {
            let key = request.names().resolve(&state.db, "").await?;
            let sales = series::load_series(&state.db, key, start, end).await?;
            if sales.is_empty() {
                return Err(Problem::bad_request(format!(
                    "No data found for store {} product {} between {start} and {end}.",
                    key.store_id, key.product_id
                )));
            }
            vec![(key, sales)]
        }
        Some(selection) => {
            let keys: Option<Vec<SeriesKey>> = match selection {
                SeriesSelection::All(_) => None,
                SeriesSelection::List(list) => Some(
                    series_names::resolve_all(
                        &state.db,
                        "series",
                        list.iter().map(SeriesName::names),
                    )
                    .await?,
                ),
            };
            let mut found = series::load_many(&state.db, keys.as_deref(), start, end).await?;
            if let Some(keys) = &keys {
                // Listed series without rows are reported as skipped.
                let present: HashSet<SeriesKey> = found.iter().map(|(k, _)| *k).collect();
                for key in keys.iter().filter(|k| !present.contains(k)) {
                    found.push((*key, Default::default()));
                }
            }
            if found.iter().all(|(_, s)| s.is_empty()) {
                return Err(Problem::bad_request(format!(
                    "No data found for the selected series between {start} and {end}."
                )));
            }
            found
        }
    }
    .into_iter()
    .map(|(key, sales)| (key, feature_aware::SeriesInput::from_sales(key, sales)))
    .collect();
    let loaded = if main.feature_aware {
        feature_aware::attach_side_data(state, loaded, start, end).await?
    } else {
        loaded
    };

    let categories = if request.config.global_model {
        Some(series_data::load_categories(&state.db).await?)
    } else {
        None
    };
    let mut candidates = vec![main];
    candidates.extend(baselines.into_iter().flatten());
    let job = Job {
        global: categories,
        spec,
        candidates,
        seed: settings.forecast_random_seed,
        keep_details: request.config.store_fold_details,
        include_baselines: request.config.include_baselines,
        control: Control::new(progress),
    };
    let evaluated = tokio::task::spawn_blocking(move || {
        let results = job.evaluate(&loaded);
        (job, loaded, results)
    })
    .await?;
    let (job, loaded, results) = evaluated;
    if job.control.cancelled.load(Ordering::Relaxed) {
        return Err(CoreError::Cancelled.into());
    }

    let mut response = BacktestResponse {
        backtest_id: uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
        store_id: None,
        product_id: None,
        config_hash,
        split_config,
        main_model_results: None,
        baseline_results: None,
        comparison_summary: None,
        duration_ms: 0.0,
        leakage_check_passed: true,
        series_results: None,
        pooled: None,
        skipped_series: None,
    };
    if single {
        let ((key, input), result) = loaded
            .iter()
            .zip(results)
            .next()
            .ok_or_else(|| Problem::internal("no series evaluated"))?;
        let outcome = result.map_err(Problem::from)?;
        let shaped = job.shape_series(input, &outcome)?;
        response.store_id = Some(key.store_id);
        response.product_id = Some(key.product_id);
        response.main_model_results = Some(shaped.main_model_results);
        response.baseline_results = shaped.baseline_results;
        response.comparison_summary = shaped.comparison_summary;
        response.leakage_check_passed = outcome.leakage_ok;
    } else {
        let mut series_results = Vec::new();
        let mut skipped = Vec::new();
        let mut pool = Pool::new(&job.candidates);
        for ((key, input), result) in loaded.iter().zip(results) {
            match result.and_then(|outcome| Ok((job.shape_series(input, &outcome)?, outcome))) {
                Ok((shaped, outcome)) => {
                    response.leakage_check_passed &= outcome.leakage_ok;
                    pool.add(input, &outcome.results);
                    series_results.push(shaped);
                }
                Err(error) => skipped.push(SkippedSeries {
                    store_id: key.store_id,
                    product_id: key.product_id,
                    n_observations: input.len(),
                    reason: if input.is_empty() {
                        "No data in the requested window.".to_owned()
                    } else {
                        error.to_string()
                    },
                }),
            }
        }
        if series_results.is_empty() {
            let reasons: Vec<String> = skipped
                .iter()
                .take(5)
                .map(|s| format!("{}/{}: {}", s.store_id, s.product_id, s.reason))
                .collect();
            return Err(Problem::bad_request(format!(
                "No selected series could be backtested ({}).",
                reasons.join("; ")
            ))
            .with_extension(
                "skipped_series",
                serde_json::to_value(&skipped).unwrap_or_default(),
            ));
        }
        response.pooled =
            Some(pool.finish(&job.candidates, job.include_baselines, series_results.len()));
        response.series_results = Some(series_results);
        response.skipped_series = Some(skipped);
    }
    response.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(response)
}

fn check_limits(settings: &Settings, spec: &SplitSpec) -> Result<(), Problem> {
    if spec.n_splits > settings.backtest_max_splits {
        return Err(Problem::bad_request(format!(
            "n_splits ({}) exceeds BACKTEST_MAX_SPLITS ({}).",
            spec.n_splits, settings.backtest_max_splits
        )));
    }
    if spec.gap > settings.backtest_max_gap {
        return Err(Problem::bad_request(format!(
            "gap ({}) exceeds BACKTEST_MAX_GAP ({}).",
            spec.gap, settings.backtest_max_gap
        )));
    }
    if spec.min_train_size < settings.backtest_default_min_train_size {
        tracing::warn!(
            min_train_size = spec.min_train_size,
            recommended = settings.backtest_default_min_train_size,
            "backtest min_train_size below BACKTEST_DEFAULT_MIN_TRAIN_SIZE"
        );
    }
    Ok(())
}

/// Progress counting and cooperative cancellation.
struct Control {
    hook: Option<ProgressHook>,
    done: AtomicUsize,
    total: AtomicUsize,
    cancelled: AtomicBool,
}

impl Control {
    fn new(hook: Option<ProgressHook>) -> Self {
        Self {
            hook,
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            cancelled: AtomicBool::new(false),
        }
    }

    fn check(&self) -> Result<(), CoreError> {
        if self.cancelled.load(Ordering::Relaxed) {
            Err(CoreError::Cancelled)
        } else {
            Ok(())
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(hook) = &self.hook {
            if !hook(done, self.total.load(Ordering::Relaxed)) {
                self.cancelled.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Everything the blocking part needs.
struct Job {
    /// `Some(product id → category)` when the main model is fitted
    /// globally.
    global: Option<HashMap<i64, String>>,
    spec: SplitSpec,
    candidates: Vec<Candidate>,
    seed: u64,
    keep_details: bool,
    include_baselines: bool,
    control: Control,
}

/// One series evaluated: its folds and one result per candidate.
pub(crate) struct SeriesOutcome {
    folds: Vec<Fold>,
    results: Vec<Result<ModelOutcome, CoreError>>,
    leakage_ok: bool,
}

impl Job {
    fn evaluate(
        &self,
        loaded: &[(SeriesKey, feature_aware::SeriesInput)],
    ) -> Vec<Result<SeriesOutcome, CoreError>> {
        let total: usize = loaded
            .iter()
            .map(|(_, s)| backtest::split(s.len(), &self.spec).map_or(0, |f| f.len()))
            .sum::<usize>()
            * self.candidates.len();
        self.control.total.store(total, Ordering::Relaxed);
        let global = match &self.global {
            None => None,
            Some(categories) => match global::run(
                self.candidates[0].forecaster.as_ref(),
                loaded,
                categories,
                &self.spec,
                self.seed,
                &|| self.control.check(),
            ) {
                Ok(run) => Some(run),
                Err(error) => return loaded.iter().map(|_| Err(error.clone())).collect(),
            },
        };
        loaded
            .par_iter()
            .map(|(_, input)| self.evaluate_series(input, global.as_ref()))
            .collect()
    }

    fn evaluate_series(
        &self,
        input: &feature_aware::SeriesInput,
        global: Option<&global::GlobalRun>,
    ) -> Result<SeriesOutcome, CoreError> {
        self.control.check()?;
        if input.is_empty() {
            return Err(CoreError::insufficient(
                "a backtest",
                self.spec.min_rows(),
                0,
            ));
        }
        let folds = match global {
            None => backtest::split(input.len(), &self.spec)?,
            Some(run) => {
                let folds = run.folds(input.key());
                if folds.is_empty() {
                    return Err(CoreError::insufficient(
                        "a global backtest fold",
                        FEATURE_AWARE_MIN_TRAIN,
                        input.len(),
                    ));
                }
                folds
            }
        };
        let predictors: Vec<Box<backtest::Predictor<'_>>> = self
            .candidates
            .iter()
            .enumerate()
            .map(|(position, candidate)| -> Box<backtest::Predictor<'_>> {
                Box::new(move |fold: &Fold| {
                    self.control.check()?;
                    let forecast = if let (0, Some(run)) = (position, global) {
                        run.predictions(input.key(), fold.index)
                    } else if candidate.feature_aware {
                        feature_aware::forecast_fold(
                            candidate.forecaster.as_ref(),
                            input,
                            fold,
                            self.seed,
                        )
                    } else {
                        backtest::target_only_forecast(
                            candidate.forecaster.as_ref(),
                            input.target(),
                            fold,
                            self.seed,
                        )
                    };
                    self.control.tick();
                    forecast
                })
            })
            .collect();
        let refs: Vec<&backtest::Predictor<'_>> = predictors.iter().map(|p| p.as_ref()).collect();
        let mut results = backtest::evaluate_models(input.dates(), input.target(), &folds, &refs);
        self.control.check()?;
        // The main model must succeed; a failing baseline is skipped.
        if let Some(Err(error)) = results.first_mut() {
            return Err(error.clone());
        }
        for (candidate, result) in self.candidates.iter().zip(&results).skip(1) {
            if let Err(error) = result {
                tracing::warn!(baseline = %candidate.model_type, %error, "baseline failed; skipped");
            }
        }
        let leakage_ok = match global {
            None => backtest::leakage_check(&folds, self.spec.gap, input.dates()),
            // Gaps are kept on the date axis; a series may miss rows there.
            Some(run) => run.leakage_ok && backtest::leakage_check(&folds, 0, input.dates()),
        };
        results.shrink_to_fit();
        Ok(SeriesOutcome {
            folds,
            results,
            leakage_ok,
        })
    }

    fn shape_series(
        &self,
        input: &feature_aware::SeriesInput,
        outcome: &SeriesOutcome,
    ) -> Result<SeriesBacktestResult, CoreError> {
        let mut shaped =
            outcome
                .results
                .iter()
                .zip(&self.candidates)
                .filter_map(|(result, candidate)| {
                    result
                        .as_ref()
                        .ok()
                        .map(|o| (candidate, self.model_result(candidate, input, o)))
                });
        let (_, main) = shaped
            .next()
            .ok_or_else(|| CoreError::input("main model produced no result"))?;
        let baselines: Vec<(&Candidate, ModelBacktestResult)> = shaped.collect();
        let main_metrics = outcome.results[0]
            .as_ref()
            .map(|o| o.aggregated)
            .unwrap_or(Metrics::NAN);
        let baseline_metrics: Vec<(&Candidate, Metrics)> = self
            .candidates
            .iter()
            .zip(&outcome.results)
            .skip(1)
            .filter_map(|(c, r)| r.as_ref().ok().map(|o| (c, o.aggregated)))
            .collect();
        debug_assert_eq!(outcome.folds.len(), main.fold_results.len());
        Ok(SeriesBacktestResult {
            store_id: input.key().store_id,
            product_id: input.key().product_id,
            n_observations: input.len(),
            main_model_results: main,
            baseline_results: self
                .include_baselines
                .then(|| baselines.into_iter().map(|(_, r)| r).collect()),
            comparison_summary: self
                .include_baselines
                .then(|| comparison_summary(&main_metrics, &baseline_metrics)),
        })
    }

    fn model_result(
        &self,
        candidate: &Candidate,
        input: &feature_aware::SeriesInput,
        outcome: &ModelOutcome,
    ) -> ModelBacktestResult {
        let dates = input.dates();
        let target = input.target();
        let fold_results = outcome
            .folds
            .iter()
            .map(|fold| {
                let f = &fold.fold;
                let split = SplitBoundary {
                    fold_index: f.index,
                    train_start: dates[f.train.start],
                    train_end: dates[f.train.end - 1],
                    test_start: dates[f.test.start],
                    test_end: dates[f.test.end - 1],
                    train_size: f.train.len(),
                    test_size: f.test.len(),
                };
                let (fold_dates, actuals, predictions) = if self.keep_details {
                    (
                        dates[f.test.clone()].to_vec(),
                        target[f.test.clone()].to_vec(),
                        fold.predictions.iter().map(|p| finite(*p)).collect(),
                    )
                } else {
                    (Vec::<NaiveDate>::new(), Vec::new(), Vec::new())
                };
                FoldResult {
                    fold_index: f.index,
                    split,
                    dates: fold_dates,
                    actuals,
                    predictions,
                    metrics: fold.metrics.into(),
                    horizon_bucket_metrics: BucketMetricsBody::from_pairs(&fold.bucket_metrics()),
                }
            })
            .collect();
        ModelBacktestResult {
            model_type: candidate.model_type.clone(),
            config_hash: candidate.config_hash.clone(),
            fold_results,
            aggregated_metrics: outcome.aggregated.into(),
            metric_std: StabilityBody::from(outcome.stability),
            bucketed_aggregated_metrics: outcome
                .bucketed
                .as_ref()
                .map(|pairs| BucketMetricsBody::from_pairs(pairs)),
            feature_aware: candidate.feature_aware,
            exogenous_policy: candidate.feature_aware.then(|| "observed".to_owned()),
        }
    }
}
