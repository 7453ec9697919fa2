//! The naive model: the forecast for every step is the last observed value.

use forecastlab_core::{
    explain::{self, Confidence, Driver, Explanation},
    inventory, model_config,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "naive";

/// The naive model's configuration (it has no parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NaiveConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `naive`.
    #[serde(default = "model_type")]
    pub model_type: String,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

impl TargetOnlyMethod for NaiveConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The last observed value.
    type State = f64;

    fn validate(&self) -> Result<(), CoreError> {
        Ok(())
    }

    fn min_observations(&self) -> usize {
        1
    }

    fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
        y.last()
            .copied()
            .ok_or_else(|| CoreError::insufficient(MODEL_TYPE, 1, 0))
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }

    fn explain(&self, state: &f64, history: &[f64], _step: usize) -> Option<Explanation> {
        let n = history.len();
        let main = Driver::new(
            "last_observation",
            MODEL_TYPE,
            Some(*state),
            *state,
            "The forecast repeats the last observed value.",
        );
        let mut context = Vec::new();
        if n >= 14 {
            let trend = explain::mean(&history[n - 7..]) - explain::mean(&history[n - 14..n - 7]);
            context.push(Driver::new(
                "recent_trend",
                "trend",
                Some(trend),
                0.0,
                format!(
                    "The last 7 days averaged {trend:+.1} units against the 7 before ({}); \
                     the naive forecast does not follow it.",
                    explain::direction(trend)
                ),
            ));
        }
        let confidence = if n < 14 {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        Some(explain::rule_based(
            *state,
            main,
            context,
            confidence,
            14,
            Some("The naive model repeats the last value: it ignores seasonality and trend."),
        ))
    }
}

inventory::submit! {
    target_only::registration::<NaiveConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{Forecaster, PredictRequest, TrainingData};

    fn build(config: serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        target_only::build::<NaiveConfig>(&config)
    }

    fn forecast(y: &[f64], horizon: usize) -> Vec<f64> {
        let fitted = build(serde_json::json!({}))
            .unwrap()
            .fit(&TrainingData::target_only(y, 42))
            .unwrap();
        fitted
            .predict(&PredictRequest::horizon(horizon))
            .unwrap()
            .point
    }

    #[test]
    fn repeats_the_last_value() {
        assert_eq!(forecast(&[1.0, 2.0, 5.0], 3), vec![5.0, 5.0, 5.0]);
        let ramp: Vec<f64> = (1..=60).map(f64::from).collect();
        assert_eq!(forecast(&ramp, 4), vec![60.0; 4]);
        assert_eq!(forecast(&[7.0; 10], 2), vec![7.0; 2]);
        assert_eq!(forecast(&[0.0, 3.0, 0.0, 0.0], 2), vec![0.0; 2]);
    }

    #[test]
    fn empty_series_is_an_error() {
        let model = build(serde_json::json!({})).unwrap();
        let error = model.fit(&TrainingData::target_only(&[], 42)).unwrap_err();
        assert!(matches!(
            error,
            CoreError::InsufficientData { needed: 1, .. }
        ));
    }

    #[test]
    fn config_is_checked_and_hashed() {
        assert!(build(serde_json::json!({"window": 3})).is_err());
        assert!(build(serde_json::json!({"model_type": "moving_average"})).is_err());
        let model = build(serde_json::json!({"model_type": "naive"})).unwrap();
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"naive"}"#
        );
    }

    #[test]
    fn payload_round_trips() {
        let model = build(serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..30).map(|i| f64::from((i * 7) % 5)).collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 42)).unwrap();
        let reloaded = target_only::load::<NaiveConfig>(&fitted.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 2,
            features: None,
            interval_level: Some(0.8),
        };
        assert_eq!(
            fitted.predict(&request).unwrap(),
            reloaded.predict(&request).unwrap()
        );
    }
}
