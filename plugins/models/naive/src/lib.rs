//! The naive model: the forecast for every step is the last observed value.

use forecastlab_core::{
    inventory,
    taxonomy::{InputKind, ModelFamily},
    CoreError, FittedModel, Forecast, Forecaster, ModelRegistration, PredictRequest, TrainingData,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "naive";

/// The naive model's configuration (it has no parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NaiveConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `naive`.
    #[serde(default = "model_type")]
    pub model_type: String,
}

fn schema_version() -> String {
    "1.0".to_owned()
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

/// Unfitted naive model.
#[derive(Debug, Clone)]
pub struct Naive {
    config: NaiveConfig,
}

/// Fitted naive model: remembers the last value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedNaive {
    last_value: f64,
}

impl Forecaster for Naive {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        let last_value = *data
            .target
            .last()
            .ok_or_else(|| CoreError::insufficient(MODEL_TYPE, 1, 0))?;
        Ok(Box::new(FittedNaive { last_value }))
    }
}

impl FittedModel for FittedNaive {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
        Ok(Forecast::point(vec![self.last_value; request.horizon]))
    }

    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        serde_json::to_vec(self).map_err(|e| CoreError::Artifact(e.to_string()))
    }
}

fn build(config: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
    let config: NaiveConfig =
        serde_json::from_value(config.clone()).map_err(|e| CoreError::config(e.to_string()))?;
    if config.model_type != MODEL_TYPE {
        return Err(CoreError::config(format!(
            "model_type must be '{MODEL_TYPE}', got '{}'",
            config.model_type
        )));
    }
    Ok(Box::new(Naive { config }))
}

fn load(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    let fitted: FittedNaive =
        serde_json::from_slice(payload).map_err(|e| CoreError::Artifact(e.to_string()))?;
    Ok(Box::new(fitted))
}

inventory::submit! {
    ModelRegistration {
        name: MODEL_TYPE,
        family: ModelFamily::Baseline,
        input: InputKind::TargetOnly,
        flag: None,
        version: env!("CARGO_PKG_VERSION"),
        build,
        load,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_last_value() {
        let model = build(&serde_json::json!({"model_type": "naive"})).unwrap();
        let fitted = model
            .fit(&TrainingData::target_only(&[1.0, 2.0, 5.0], 42))
            .unwrap();
        let forecast = fitted.predict(&PredictRequest::horizon(3)).unwrap();
        assert_eq!(forecast.point, vec![5.0, 5.0, 5.0]);
    }

    #[test]
    fn empty_series_is_an_error() {
        let model = build(&serde_json::json!({})).unwrap();
        let error = model.fit(&TrainingData::target_only(&[], 42)).unwrap_err();
        assert!(matches!(
            error,
            CoreError::InsufficientData { needed: 1, .. }
        ));
    }

    #[test]
    fn unknown_config_keys_are_rejected() {
        assert!(build(&serde_json::json!({"window": 3})).is_err());
    }

    #[test]
    fn payload_round_trips() {
        let model = build(&serde_json::json!({})).unwrap();
        let fitted = model.fit(&TrainingData::target_only(&[3.0], 42)).unwrap();
        let reloaded = load(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(
            reloaded.predict(&PredictRequest::horizon(2)).unwrap().point,
            vec![3.0, 3.0]
        );
    }
}
