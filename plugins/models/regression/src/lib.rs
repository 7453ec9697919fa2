//! The `regression` model: histogram gradient-boosted regression trees, the
//! equivalent of scikit-learn's `HistGradientBoostingRegressor`, built on
//! the pure-Rust [`forust_ml`] booster so it is part of the default build.
//!
//! Hyper-parameters: `max_iter` trees, `learning_rate`, `max_depth` from the
//! config; the rest mirror HistGradientBoosting's defaults: squared error,
//! leaf-wise (best-first) growth with at most 31 leaves, a minimum hessian
//! (= sample count for squared error) of 20 per leaf, 255 bins, no L2
//! penalty, the initial prediction set to the target mean, and
//! HistGradientBoosting's automatic early stopping: above
//! [`EARLY_STOPPING_ABOVE`] rows (a global frame, never one series' few
//! years of days) a seeded random tenth of the rows is held out and boosting
//! stops once ten trees in a row have not improved its loss. Missing values
//! (NaN) are handled natively: each split learns which side missing values
//! go to.
//!
//! With `seasonal_base` (the default) the trees are fitted on the target
//! minus a seasonal-naive base read from the frame's own same-weekday lag
//! columns ([`SeasonalBase`]), with the base offered as one more column; the
//! forecast is base + the trees' correction. Off, they fit the raw target.

use forecastlab_core::{
    explain::{self, Driver, ExplainMethod, Explanation},
    inventory,
    model_config::{self, check_float_range, check_range},
    seasonal_base::SeasonalBase,
    supervised::{self, FittedSupervised, Supervised, SupervisedMethod},
    taxonomy::ModelFamily,
    CoreError, FeatureMatrix,
};
use forust_ml::{
    gradientbooster::{ContributionsMethod, GrowPolicy, MissingNodeTreatment},
    metric::Metric,
    objective::ObjectiveType,
    GradientBooster, Matrix,
};
use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "regression";
/// Leaves per tree (HistGradientBoosting's `max_leaf_nodes`).
pub const MAX_LEAVES: usize = 31;
/// Minimum samples per leaf (`min_samples_leaf`).
pub const MIN_SAMPLES_LEAF: f32 = 20.0;
/// Histogram bins (`max_bins`).
pub const MAX_BINS: u16 = 255;
/// Early stopping is on above this many training rows
/// (`early_stopping="auto"`).
pub const EARLY_STOPPING_ABOVE: usize = 10_000;
/// Share of the rows held out to decide when to stop
/// (`validation_fraction`).
const VALIDATION_FRACTION: f64 = 0.1;
/// Trees in a row that must fail to improve the held-out loss before
/// boosting stops (`n_iter_no_change`).
const ROUNDS_WITHOUT_IMPROVEMENT: usize = 10;

/// Configuration of the regression model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressionConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `regression`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Boosting iterations (10–1000, default 200).
    #[serde(default = "default_max_iter")]
    pub max_iter: i64,
    /// Shrinkage (0.001–1.0, default 0.05).
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Maximum tree depth (1–20, default 6).
    #[serde(default = "default_max_depth")]
    pub max_depth: i64,
    /// Fit the trees on the residual of a seasonal-naive base read from the
    /// frame's lag columns (default true).
    #[serde(default = "default_seasonal_base")]
    pub seasonal_base: bool,
    /// Hash of the feature config the frame was built with (informational).
    #[serde(default)]
    pub feature_config_hash: Option<String>,
}

fn default_seasonal_base() -> bool {
    true
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}
fn default_max_iter() -> i64 {
    200
}
fn default_learning_rate() -> f64 {
    0.05
}
fn default_max_depth() -> i64 {
    6
}

impl RegressionConfig {
    fn booster(&self, seed: u64) -> Result<GradientBooster, CoreError> {
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::SquaredLoss)
            .set_iterations(usize::try_from(self.max_iter).unwrap_or(200))
            .set_learning_rate(self.learning_rate as f32)
            .set_max_depth(usize::try_from(self.max_depth).unwrap_or(6))
            .set_max_leaves(MAX_LEAVES)
            .set_min_leaf_weight(MIN_SAMPLES_LEAF)
            .set_nbins(MAX_BINS)
            .set_l2(0.0)
            .set_initialize_base_score(true)
            .set_allow_missing_splits(true)
            .set_create_missing_branch(false)
            .set_parallel(false)
            .set_seed(seed);
        booster.grow_policy = GrowPolicy::LossGuide;
        booster.missing_node_treatment = MissingNodeTreatment::AssignToParent;
        Ok(booster)
    }

    /// Fits a booster on (x, y), holding out a validation tenth to stop
    /// early when there are more than [`EARLY_STOPPING_ABOVE`] rows.
    fn fit_booster(
        &self,
        x: &FeatureMatrix,
        y: &[f64],
        seed: u64,
    ) -> Result<GradientBooster, CoreError> {
        let mut booster = self.booster(seed)?;
        let failed = |e| CoreError::input(format!("gradient boosting failed: {e}"));
        let Some((train, held_out)) = validation_split(x.n_rows(), seed) else {
            let columns = column_major(x);
            let matrix = Matrix::new(&columns, x.n_rows(), x.n_cols());
            booster
                .fit(&matrix, y, &vec![1.0; y.len()], None)
                .map_err(failed)?;
            return Ok(booster);
        };
        let train_columns = column_major_rows(x, &train);
        let train_matrix = Matrix::new(&train_columns, train.len(), x.n_cols());
        let train_y: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let weights = vec![1.0; train.len()];
        let held_out_columns = column_major_rows(x, &held_out);
        let held_out_matrix = Matrix::new(&held_out_columns, held_out.len(), x.n_cols());
        let held_out_y: Vec<f64> = held_out.iter().map(|&i| y[i]).collect();
        let held_out_weights = vec![1.0; held_out.len()];
        // The held-out loss is the squared error (forust-ml's default metric
        // for it is the squared *log* error, undefined on the residuals a
        // seasonal base leaves, which would stop boosting at once).
        booster = booster
            .set_early_stopping_rounds(Some(ROUNDS_WITHOUT_IMPROVEMENT))
            .set_evaluation_metric(Some(Metric::RootMeanSquaredError));
        booster
            .fit(
                &train_matrix,
                &train_y,
                &weights,
                Some(vec![(held_out_matrix, &held_out_y, &held_out_weights)]),
            )
            .map_err(failed)?;
        // Like HistGradientBoosting, keep every tree grown before stopping
        // (forust-ml would otherwise predict with the best round's prefix).
        booster.prediction_iteration = None;
        booster.best_iteration = None;
        booster.evaluation_history = None;
        Ok(booster)
    }
}

/// The training and held-out row indices (both ascending) when there are
/// more than [`EARLY_STOPPING_ABOVE`] rows: a seeded random tenth (rounded
/// up) held out, as `train_test_split(test_size=0.1)` does; `None` (train
/// on every row, no early stopping) otherwise.
fn validation_split(n_rows: usize, seed: u64) -> Option<(Vec<usize>, Vec<usize>)> {
    if n_rows <= EARLY_STOPPING_ABOVE {
        return None;
    }
    let mut rows: Vec<usize> = (0..n_rows).collect();
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let held_out_len = (n_rows as f64 * VALIDATION_FRACTION).ceil() as usize;
    let mut held_out = rows.split_off(n_rows - held_out_len);
    rows.sort_unstable();
    held_out.sort_unstable();
    Some((rows, held_out))
}

/// Every row of `x`, column after column (forust-ml's layout).
fn column_major(x: &FeatureMatrix) -> Vec<f64> {
    let (rows, cols) = (x.n_rows(), x.n_cols());
    let values = x.values();
    let mut out = Vec::with_capacity(rows * cols);
    for j in 0..cols {
        out.extend((0..rows).map(|i| values[i * cols + j]));
    }
    out
}

/// The given rows of `x`, column after column.
fn column_major_rows(x: &FeatureMatrix, rows: &[usize]) -> Vec<f64> {
    let cols = x.n_cols();
    let values = x.values();
    let mut out = Vec::with_capacity(rows.len() * cols);
    for j in 0..cols {
        out.extend(rows.iter().map(|&i| values[i * cols + j]));
    }
    out
}

fn predict_booster(booster: &GradientBooster, x: &FeatureMatrix) -> Vec<f64> {
    let columns = column_major(x);
    booster.predict(&Matrix::new(&columns, x.n_rows(), x.n_cols()), false)
}

impl SupervisedMethod for RegressionConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    const PAYLOAD_FIELD: &'static str = "booster";
    type Model = Booster;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("max_iter", self.max_iter, 10, 1000)?;
        check_float_range("learning_rate", self.learning_rate, 0.001, 1.0)?;
        check_range("max_depth", self.max_depth, 1, 20)
    }

    fn fit_model(&self, x: &FeatureMatrix, y: &[f64], seed: u64) -> Result<Booster, CoreError> {
        let base = if self.seasonal_base {
            SeasonalBase::for_columns(x.columns(), y)
        } else {
            None
        };
        let Some(base) = base else {
            return Ok(Booster {
                trees: self.fit_booster(x, y, seed)?,
                base: None,
            });
        };
        let (augmented, level) = base.augment(x)?;
        let residual: Vec<f64> = y.iter().zip(&level).map(|(a, b)| a - b).collect();
        Ok(Booster {
            trees: self.fit_booster(&augmented, &residual, seed)?,
            base: Some(base),
        })
    }

    fn predict_model(&self, booster: &Booster, x: &FeatureMatrix) -> Vec<f64> {
        match &booster.base {
            None => predict_booster(&booster.trees, x),
            Some(base) => match base.augment(x) {
                Ok((augmented, level)) => predict_booster(&booster.trees, &augmented)
                    .iter()
                    .zip(&level)
                    .map(|(r, b)| r + b)
                    .collect(),
                Err(_) => vec![f64::NAN; x.n_rows()],
            },
        }
    }

    /// Exact TreeSHAP values from forust-ml's own contribution routine
    /// (`ContributionsMethod::Shapley`): one per column plus the bias.
    fn explain_model(
        &self,
        booster: &Booster,
        x: &FeatureMatrix,
        row: usize,
    ) -> Option<Explanation> {
        let one = supervised::slice_rows(x, row..row + 1);
        // With a seasonal base the trees explain the residual over the
        // base's level on the augmented row; the level is its own driver.
        let (explained, level) = match &booster.base {
            None => (one, None),
            Some(base) => {
                let (augmented, level) = base.augment(&one).ok()?;
                (augmented, Some(*level.first()?))
            }
        };
        let columns = column_major(&explained);
        let matrix = Matrix::new(&columns, 1, explained.n_cols());
        let contributions =
            booster
                .trees
                .predict_contributions(&matrix, ContributionsMethod::Shapley, false);
        let (bias, per_column) = contributions.split_last()?;
        let values = explained.values();
        let mut drivers: Vec<Driver> = explained
            .columns()
            .iter()
            .zip(per_column)
            .zip(values)
            .map(|((name, &contribution), &value)| {
                Driver::new(
                    name.as_str(),
                    explain::feature_group(name),
                    value.is_finite().then_some(value),
                    contribution,
                    format!("SHAP value of {name}: {contribution:+.3}"),
                )
            })
            .collect();
        let trees = *predict_booster(&booster.trees, &explained).first()?;
        if let Some(level) = level {
            drivers.push(Driver::new(
                "seasonal_base",
                explain::feature_group("seasonal_base"),
                Some(level),
                level,
                format!("Seasonal-naive base level the trees correct: {level:+.3}"),
            ));
        }
        Some(Explanation {
            method: ExplainMethod::Shap,
            prediction: trees + level.unwrap_or(0.0),
            base_value: *bias,
            drivers,
            confidence: None,
            history_needed: 30,
            caveat: None,
        })
    }
}

/// Unfitted regression model.
pub type Regression = Supervised<RegressionConfig>;

/// Fitted regression model; its payload holds the booster under `booster`.
pub type FittedRegression = FittedSupervised<RegressionConfig>;

/// The fitted booster and, when it was fitted on the residual of a
/// seasonal base, how that base is read from a matrix.
#[derive(Serialize, Deserialize)]
pub struct Booster {
    /// The trees.
    trees: GradientBooster,
    /// The base the trees correct (`None`: they predict the target).
    #[serde(default)]
    base: Option<SeasonalBase>,
}

impl std::fmt::Debug for Booster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Booster")
            .field("trees", &self.trees.trees.len())
            .field("base", &self.base)
            .finish()
    }
}

impl Booster {
    /// Per-column gain importances (normalised) for the training `columns`,
    /// in column order.
    pub fn feature_importances(&self, columns: &[String]) -> Vec<(String, f64)> {
        let gains = self.trees.calculate_feature_importance(
            forust_ml::gradientbooster::ImportanceMethod::TotalGain,
            true,
        );
        columns
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), f64::from(*gains.get(&i).unwrap_or(&0.0))))
            .collect()
    }
}

inventory::submit! {
    supervised::registration::<RegressionConfig>(ModelFamily::Tree, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use forecastlab_core::{FittedModel, Forecaster, PredictRequest, TrainingData};

    use super::*;

    fn build(config: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        supervised::build::<RegressionConfig>(config)
    }

    fn load(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
        supervised::load::<RegressionConfig>(payload)
    }

    /// Weekly pattern + promotions + noise; features: lag_7 (NaN for the
    /// first week), day of week, promo flag.
    fn retail(n: usize) -> (FeatureMatrix, Vec<f64>) {
        let mut y = Vec::with_capacity(n);
        let mut state = 12345u64;
        for i in 0..n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 4.0;
            let dow = (i % 7) as f64;
            let promo = if i % 23 < 3 { 1.0 } else { 0.0 };
            y.push(20.0 + 5.0 * dow + 25.0 * promo + noise);
        }
        let mut x = FeatureMatrix::new(vec!["lag_7".into(), "dow".into(), "promo_active".into()]);
        for i in 0..n {
            let lag = if i >= 7 { y[i - 7] } else { f64::NAN };
            x.push_row(&[lag, (i % 7) as f64, if i % 23 < 3 { 1.0 } else { 0.0 }])
                .unwrap();
        }
        (x, y)
    }

    fn fit(
        config: serde_json::Value,
        x: &FeatureMatrix,
        y: &[f64],
    ) -> Result<Box<dyn FittedModel>, CoreError> {
        build(&config)?.fit(&TrainingData {
            target: y,
            features: Some(x),
            seed: 42,
        })
    }

    #[test]
    fn beats_naive_on_a_retail_like_series() {
        let (x, y) = retail(400);
        let train = 372;
        let xt = supervised::slice_rows(&x, 0..train);
        let xf = supervised::slice_rows(&x, train..400);
        let fitted = fit(serde_json::json!({}), &xt, &y[..train]).unwrap();
        let request = PredictRequest {
            horizon: 28,
            features: Some(&xf),
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        let actual = &y[train..];
        let wape = |f: &[f64]| {
            f.iter()
                .zip(actual)
                .map(|(p, a)| (p - a).abs())
                .sum::<f64>()
                / actual.iter().map(|a| a.abs()).sum::<f64>()
        };
        let model_wape = wape(&forecast.point);
        let naive_wape = wape(&vec![y[train - 1]; 28]);
        assert!(
            model_wape < 0.5 * naive_wape,
            "model {model_wape} vs naive {naive_wape}"
        );
        let interval = forecast.interval.unwrap();
        assert!(interval
            .lower
            .iter()
            .zip(&interval.upper)
            .all(|(l, u)| l < u));
    }

    /// `n` rows of two noise columns and a noise target.
    fn noise(n: usize) -> (FeatureMatrix, Vec<f64>) {
        let mut state = 99u64;
        let mut draw = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut x = FeatureMatrix::new(vec!["a".into(), "b".into()]);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            x.push_row(&[draw(), draw()]).unwrap();
            y.push(10.0 + draw());
        }
        (x, y)
    }

    #[test]
    fn stops_early_above_ten_thousand_rows_only() {
        let config: RegressionConfig =
            serde_json::from_value(serde_json::json!({"seasonal_base": false})).unwrap();
        // On noise no tree keeps improving the held-out loss: a large frame
        // stops after a few rounds, a frame at the threshold grows them all.
        let (x, y) = noise(EARLY_STOPPING_ABOVE + 2_000);
        let stopped = config.fit_booster(&x, &y, 7).unwrap();
        assert!(stopped.trees.len() < 100, "{} trees", stopped.trees.len());
        assert!(stopped.trees.len() > ROUNDS_WITHOUT_IMPROVEMENT);
        let small = supervised::slice_rows(&x, 0..EARLY_STOPPING_ABOVE);
        let full = config
            .fit_booster(&small, &y[..EARLY_STOPPING_ABOVE], 7)
            .unwrap();
        assert_eq!(full.trees.len(), 200);
        // Every grown tree predicts, as in HistGradientBoosting.
        assert_eq!(stopped.prediction_iteration, None);
    }

    #[test]
    fn keeps_boosting_while_the_held_out_loss_improves() {
        // A learnable signal around zero (a residual over a seasonal base
        // has negative values): the held-out loss keeps falling, so
        // boosting goes on well past the first rounds.
        let (x, _) = noise(EARLY_STOPPING_ABOVE + 2_000);
        let y: Vec<f64> = x
            .values()
            .chunks_exact(2)
            .map(|row| 8.0 * (row[0] * 6.0).sin() - 4.0 * row[1])
            .collect();
        let config: RegressionConfig =
            serde_json::from_value(serde_json::json!({"seasonal_base": false})).unwrap();
        let fitted = config.fit_booster(&x, &y, 7).unwrap();
        assert!(fitted.trees.len() > 150, "{} trees", fitted.trees.len());
    }

    #[test]
    fn the_held_out_tenth_is_seeded_and_disjoint() {
        let (train, held_out) = validation_split(12_345, 3).unwrap();
        assert_eq!(held_out.len(), 1_235);
        assert_eq!(train.len() + held_out.len(), 12_345);
        let mut all: Vec<usize> = train.iter().chain(&held_out).copied().collect();
        all.sort_unstable();
        assert!(all.iter().enumerate().all(|(i, &row)| i == row));
        assert_eq!(validation_split(12_345, 3).unwrap().1, held_out);
        assert_ne!(validation_split(12_345, 4).unwrap().1, held_out);
        // At the threshold every row trains and nothing is held out.
        assert_eq!(validation_split(EARLY_STOPPING_ABOVE, 3), None);
    }

    #[test]
    fn nan_tolerant_deterministic_and_round_trips() {
        let (x, y) = retail(120);
        let a = fit(serde_json::json!({"max_iter": 30}), &x, &y).unwrap();
        let b = fit(serde_json::json!({"max_iter": 30}), &x, &y).unwrap();
        let mut future = FeatureMatrix::new(x.columns().to_vec());
        future.push_row(&[f64::NAN, 2.0, 1.0]).unwrap();
        future.push_row(&[f64::NAN, 3.0, f64::NAN]).unwrap();
        let request = PredictRequest {
            horizon: 2,
            features: Some(&future),
            interval_level: Some(0.8),
        };
        let pa = a.predict(&request).unwrap();
        assert!(pa.point.iter().all(|v| v.is_finite()));
        assert_eq!(pa, b.predict(&request).unwrap());
        let reloaded = load(&a.to_payload().unwrap()).unwrap();
        assert_eq!(pa, reloaded.predict(&request).unwrap());
    }

    #[test]
    fn inputs_and_config_are_checked() {
        let (x, y) = retail(50);
        assert!(build(&serde_json::json!({}))
            .unwrap()
            .fit(&TrainingData::target_only(&y, 1))
            .is_err());
        let fitted = fit(serde_json::json!({"max_iter": 10}), &x, &y).unwrap();
        assert!(fitted.predict(&PredictRequest::horizon(2)).is_err());
        for (config, field) in [
            (serde_json::json!({"max_iter": 9}), "max_iter"),
            (serde_json::json!({"max_iter": 1001}), "max_iter"),
            (serde_json::json!({"learning_rate": 0.0}), "learning_rate"),
            (serde_json::json!({"learning_rate": 1.5}), "learning_rate"),
            (serde_json::json!({"max_depth": 0}), "max_depth"),
            (serde_json::json!({"max_depth": 21}), "max_depth"),
            (serde_json::json!({"n_estimators": 100}), "n_estimators"),
        ] {
            let error = build(&config).unwrap_err();
            assert!(error.to_string().contains(field), "{error}");
        }
        let model = build(&serde_json::json!({})).unwrap();
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"regression","max_iter":200,"learning_rate":0.05,"max_depth":6,"seasonal_base":true,"feature_config_hash":null}"#
        );
    }
}
