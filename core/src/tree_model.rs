//! The parts the opt-in tree models (`lightgbm`, `xgboost`,
//! `random_forest`) share: the boosting config of `lightgbm` and `xgboost`,
//! and the glue around each library's own fit and predict — training-input
//! checks, interval calibration on a held-out tail
//! ([`crate::calibration`]), prediction with split-conformal intervals and
//! the JSON payload, and SHAP explanations of one step. A tree plugin keeps
//! only the code that talks to its library.

use std::{fmt::Debug, marker::PhantomData};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{
    calibration::{holdout_split, prediction_matrix, Holdout},
    explain::Explanation,
    interval,
    model_config::{check_float_range, check_range, parse, schema_version},
    tree_shap, CoreError, FeatureMatrix, Forecast, PredictRequest, TrainingData,
};

/// Names a tree model at the type level, so that one config type serves
/// several models (see [`BoostingConfig`]).
pub trait TreeModelName: Debug + Clone + PartialEq + Send + Sync + 'static {
    /// Wire name of the model type.
    const MODEL_TYPE: &'static str;
}

/// Configuration of a gradient-boosted tree model (§4.2 of the modelling
/// spec: `lightgbm` and `xgboost` have the same fields, defaults and
/// ranges): immutable, unknown keys rejected, every field range-checked.
/// Field order is the serialisation order of the canonical JSON (and so of
/// `config_hash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct BoostingConfig<M: TreeModelName> {
    /// Config schema version (`"1.0"`).
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always the model's wire name ([`TreeModelName::MODEL_TYPE`]).
    #[serde(default = "model_type::<M>")]
    pub model_type: String,
    /// Boosting rounds (100; 10–1000).
    #[serde(default = "default_n_estimators")]
    pub n_estimators: u32,
    /// Maximum tree depth (6; 1–20).
    #[serde(default = "default_max_depth")]
    pub max_depth: u32,
    /// Shrinkage (0.1; 0.001–1.0).
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Training loss (`squared_error`, the spec's default, is left out of
    /// the serialised config so that existing configs keep their hash).
    #[serde(default, skip_serializing_if = "Objective::is_default")]
    pub objective: Objective,
    /// Hash of the feature config the model was trained with (informational).
    #[serde(default)]
    pub feature_config_hash: Option<String>,
    #[serde(skip)]
    model: PhantomData<M>,
}

fn model_type<M: TreeModelName>() -> String {
    M::MODEL_TYPE.to_owned()
}

fn default_n_estimators() -> u32 {
    100
}

fn default_max_depth() -> u32 {
    6
}

fn default_learning_rate() -> f64 {
    0.1
}

impl<M: TreeModelName> Default for BoostingConfig<M> {
    fn default() -> Self {
        Self {
            schema_version: schema_version(),
            model_type: model_type::<M>(),
            n_estimators: default_n_estimators(),
            max_depth: default_max_depth(),
            learning_rate: default_learning_rate(),
            objective: Objective::default(),
            feature_config_hash: None,
            model: PhantomData,
        }
    }
}

impl<M: TreeModelName> BoostingConfig<M> {
    /// Parses and validates a JSON config (`null` = all defaults).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, CoreError> {
        let config: Self = parse(value, M::MODEL_TYPE)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_range("n_estimators", self.n_estimators, 10, 1000)?;
        check_range("max_depth", self.max_depth, 1, 20)?;
        check_float_range("learning_rate", self.learning_rate, 0.001, 1.0)?;
        Ok(())
    }
}

/// The loss a gradient-boosted tree model minimises.
///
/// Squared error (the default) forecasts the conditional mean. Retail
/// accuracy is mostly scored by WAPE, an absolute error, which the
/// conditional median minimises: `absolute_error` fits that median, and
/// `huber` is squared near zero and absolute in the tails (robust to
/// one-off spikes). All three have an identity link, so SHAP values keep
/// adding up to the forecast itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Least squares (LightGBM `regression`, XGBoost `reg:squarederror`).
    #[default]
    SquaredError,
    /// Least absolute deviation (`regression_l1`, `reg:absoluteerror`).
    AbsoluteError,
    /// Huber loss (`huber`, `reg:pseudohubererror`).
    Huber,
}

impl Objective {
    /// Whether this is the default (left out of the serialised config).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The constant that minimises the loss over `y` (the booster's
    /// starting prediction): the mean for squared error, the median for
    /// the others.
    pub fn base_score(self, y: &[f64]) -> f64 {
        if y.is_empty() {
            return 0.0;
        }
        match self {
            Self::AbsoluteError | Self::Huber => {
                let mut sorted = y.to_vec();
                sorted.sort_by(f64::total_cmp);
                let mid = sorted.len() / 2;
                if sorted.len().is_multiple_of(2) {
                    0.5 * (sorted[mid - 1] + sorted[mid])
                } else {
                    sorted[mid]
                }
            }
            Self::SquaredError => y.iter().sum::<f64>() / y.len() as f64,
        }
    }
}

/// The training feature matrix of a tree model, checked: present, at least
/// `min_rows` rows, one row per target value, at least one column, and a
/// finite target.
pub fn training_matrix<'a>(
    data: &TrainingData<'a>,
    model_type: &str,
    min_rows: usize,
) -> Result<&'a FeatureMatrix, CoreError> {
    let x = data.features.ok_or_else(|| {
        CoreError::input(format!(
            "{model_type} requires a feature matrix (it is a feature-aware model)"
        ))
    })?;
    let n = data.target.len();
    if n < min_rows {
        return Err(CoreError::insufficient(model_type, min_rows, n));
    }
    if x.n_rows() != n {
        return Err(CoreError::input(format!(
            "feature matrix has {} rows, target has {n}",
            x.n_rows()
        )));
    }
    if x.n_cols() == 0 {
        return Err(CoreError::input("feature matrix has no columns"));
    }
    if data.target.iter().any(|v| !v.is_finite()) {
        return Err(CoreError::input("target values must be finite"));
    }
    Ok(x)
}

/// Absolute one-step errors on the held-out tail of the training rows
/// ([`holdout_split`]; `x` has one row per value of `y`, as
/// [`training_matrix`] checks), without the non-finite ones; empty when
/// there are too few rows for a tail. `fit_predict(fit_rows, fit_target, hold_rows)`
/// fits a calibration model on the rows before the tail and predicts the
/// tail; rows are row-major, `x.n_cols()` wide.
pub fn holdout_errors<F>(
    x: &FeatureMatrix,
    y: &[f64],
    fit_predict: F,
) -> Result<Vec<f64>, CoreError>
where
    F: FnOnce(&[f64], &[f64], &[f64]) -> Result<Vec<f64>, CoreError>,
{
    let Some(Holdout { fit, hold }) = holdout_split(y.len()) else {
        return Ok(Vec::new());
    };
    let width = x.n_cols();
    let predicted = fit_predict(
        &x.values()[fit.start * width..fit.end * width],
        &y[fit],
        &x.values()[hold.start * width..hold.end * width],
    )?;
    Ok(predicted
        .iter()
        .zip(&y[hold])
        .map(|(p, a)| (a - p).abs())
        .filter(|e| e.is_finite())
        .collect())
}

/// Forecasts the rows of `request` ([`prediction_matrix`] checks them
/// against the training `columns`) with `point_forecast`, after checking
/// the interval level; the interval, when asked for, is split-conformal on
/// `holdout_errors` and widens with √h.
pub fn predict<F>(
    request: &PredictRequest<'_>,
    columns: &[String],
    holdout_errors: &[f64],
    model_type: &str,
    point_forecast: F,
) -> Result<Forecast, CoreError>
where
    F: FnOnce(&FeatureMatrix) -> Result<Vec<f64>, CoreError>,
{
    let x = prediction_matrix(request, columns, model_type)?;
    if let Some(level) = request.interval_level {
        interval::validate_level(level)?;
    }
    let point = point_forecast(x)?;
    let interval = request.interval_level.map(|level| {
        let widths = interval::scaled_half_widths(holdout_errors, point.len(), level);
        interval::symmetric(&point, &widths, level)
    });
    Ok(Forecast { point, interval })
}

/// SHAP values of one prediction row: the base (expected) value, one
/// contribution per column, and the prediction they add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct RowShap {
    /// The model's expected value.
    pub base_value: f64,
    /// One contribution per column, in column order.
    pub contributions: Vec<f64>,
    /// The prediction of the row.
    pub prediction: f64,
}

/// Explains step `step` (1-based) of `request` ([`prediction_matrix`]
/// checks its rows against the training `columns`): `shap` computes the
/// values of that step's row-major row.
pub fn explain_step<F>(
    request: &PredictRequest<'_>,
    columns: &[String],
    model_type: &str,
    step: usize,
    shap: F,
) -> Result<Option<Explanation>, CoreError>
where
    F: FnOnce(&[f64]) -> Result<RowShap, CoreError>,
{
    let x = prediction_matrix(request, columns, model_type)?;
    if step == 0 || step > x.n_rows() {
        return Err(CoreError::input(format!(
            "step {step} is outside the horizon of {}",
            x.n_rows()
        )));
    }
    let width = x.n_cols();
    let row = &x.values()[(step - 1) * width..step * width];
    let values = shap(row)?;
    if values.contributions.len() != width {
        return Err(CoreError::Artifact(format!(
            "{model_type}: {} contributions for {width} columns",
            values.contributions.len()
        )));
    }
    Ok(Some(tree_shap::shap_explanation(
        columns,
        row,
        &values.contributions,
        values.base_value,
        values.prediction,
    )))
}

/// A fitted tree model's payload, as JSON.
pub fn encode_payload<T: Serialize>(payload: &T) -> Result<Vec<u8>, CoreError> {
    serde_json::to_vec(payload).map_err(|e| CoreError::Artifact(e.to_string()))
}

/// Reads a payload written by [`encode_payload`].
pub fn decode_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CoreError> {
    serde_json::from_slice(bytes).map_err(|e| CoreError::Artifact(e.to_string()))
}

/// Refuses a payload whose layout version `found` is not `expected`.
pub fn check_payload_version(model_type: &str, found: u32, expected: u32) -> Result<(), CoreError> {
    if found != expected {
        return Err(CoreError::Artifact(format!(
            "{model_type} payload version {found} is not supported (expected {expected})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq)]
    enum Probe {}

    impl TreeModelName for Probe {
        const MODEL_TYPE: &'static str = "probe";
    }

    type ProbeConfig = BoostingConfig<Probe>;

    #[test]
    fn boosting_defaults_carry_the_model_type() {
        let config = ProbeConfig::from_json(&serde_json::Value::Null).unwrap();
        assert_eq!(config, ProbeConfig::default());
        assert_eq!(config.model_type, "probe");
        assert!(ProbeConfig::from_json(&json!({"model_type": "other"})).is_err());
    }

    #[test]
    fn boosting_ranges_are_enforced_and_name_the_field() {
        for (body, field) in [
            (json!({"n_estimators": 9}), "n_estimators"),
            (json!({"n_estimators": 1001}), "n_estimators"),
            (json!({"max_depth": 0}), "max_depth"),
            (json!({"max_depth": 21}), "max_depth"),
            (json!({"learning_rate": 0.0009}), "learning_rate"),
            (json!({"learning_rate": 1.5}), "learning_rate"),
        ] {
            let error = ProbeConfig::from_json(&body).unwrap_err();
            assert!(
                matches!(&error, CoreError::InvalidConfig(m) if m.starts_with(field)),
                "{body}: {error}"
            );
        }
        let edges = json!({"n_estimators": 1000, "max_depth": 20, "learning_rate": 1.0});
        assert!(ProbeConfig::from_json(&edges).is_ok());
    }

    #[test]
    fn objective_defaults_to_squared_error_and_stays_out_of_the_json() {
        let config = ProbeConfig::from_json(&json!({"objective": "squared_error"})).unwrap();
        assert_eq!(config, ProbeConfig::default());
        assert!(!serde_json::to_string(&config)
            .unwrap()
            .contains("objective"));
        let l1 = ProbeConfig::from_json(&json!({"objective": "absolute_error"})).unwrap();
        assert_eq!(l1.objective, Objective::AbsoluteError);
        assert!(serde_json::to_string(&l1)
            .unwrap()
            .contains(r#""objective":"absolute_error""#));
        let error = ProbeConfig::from_json(&json!({"objective": "poisson"})).unwrap_err();
        assert!(error.to_string().contains("unknown variant"), "{error}");
    }

    #[test]
    fn objective_base_scores_minimise_their_loss() {
        let y = [1.0, 2.0, 3.0, 10.0];
        assert_eq!(Objective::SquaredError.base_score(&y), 4.0);
        assert_eq!(Objective::AbsoluteError.base_score(&y), 2.5);
        assert_eq!(Objective::Huber.base_score(&[5.0, 1.0, 9.0]), 5.0);
        assert_eq!(Objective::SquaredError.base_score(&[]), 0.0);
    }

    fn matrix(n: usize) -> FeatureMatrix {
        let values = (0..2 * n).map(|v| v as f64).collect();
        FeatureMatrix::from_row_major(vec!["a".to_owned(), "b".to_owned()], values).unwrap()
    }

    fn data<'a>(target: &'a [f64], features: Option<&'a FeatureMatrix>) -> TrainingData<'a> {
        TrainingData {
            target,
            features,
            seed: 1,
        }
    }

    #[test]
    fn training_inputs_are_checked() {
        let (x, one_row) = (matrix(3), matrix(1));
        let y = [1.0, 2.0, 3.0];
        assert!(training_matrix(&data(&y, Some(&x)), "m", 2).is_ok());
        assert!(training_matrix(&data(&y, None), "m", 2).is_err());
        let error = training_matrix(&data(&y[..1], Some(&one_row)), "m", 2).unwrap_err();
        assert!(matches!(
            error,
            CoreError::InsufficientData {
                needed: 2,
                got: 1,
                ..
            }
        ));
        assert!(training_matrix(&data(&y[..2], Some(&x)), "m", 1).is_err());
        assert!(training_matrix(&data(&[1.0, f64::NAN, 3.0], Some(&x)), "m", 1).is_err());
    }

    #[test]
    fn holdout_errors_come_from_the_tail() {
        let x = matrix(100);
        let y: Vec<f64> = (0..100).map(f64::from).collect();
        let errors = holdout_errors(&x, &y, |fit, target, hold| {
            assert_eq!((fit.len(), target.len(), hold.len()), (160, 80, 40));
            Ok(vec![0.0; 20])
        })
        .unwrap();
        assert_eq!(errors, y[80..]);
        let short = holdout_errors(&matrix(5), &y[..5], |_, _, _| unreachable!()).unwrap();
        assert!(short.is_empty());
    }

    #[test]
    fn payloads_round_trip_and_check_their_version() {
        let bytes = encode_payload(&json!({"payload_version": 1})).unwrap();
        let payload: serde_json::Value = decode_payload(&bytes).unwrap();
        assert_eq!(payload["payload_version"], 1);
        assert!(decode_payload::<serde_json::Value>(b"nope").is_err());
        assert!(check_payload_version("m", 1, 1).is_ok());
        let error = check_payload_version("m", 1, 2).unwrap_err();
        assert!(error.to_string().contains("m payload version 1"));
    }
}
