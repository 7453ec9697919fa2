//! Moving average: a constant forecast equal to the mean of the last W values.

use forecastlab_core::{
    explain::{self, Driver, Explanation},
    inventory,
    model_config::{self, check_range},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "moving_average";

/// Configuration of the moving average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovingAverageConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `moving_average`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Window W (1–90, default 7).
    #[serde(default = "default_window_size")]
    pub window_size: i64,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_window_size() -> i64 {
    7
}

impl TargetOnlyMethod for MovingAverageConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The mean of the last W values.
    type State = f64;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("window_size", self.window_size, 1, 90)
    }

    fn min_observations(&self) -> usize {
        usize::try_from(self.window_size).unwrap_or(1)
    }

    fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
        let window = &y[y.len() - self.min_observations()..];
        Ok(window.iter().sum::<f64>() / window.len() as f64)
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }

    fn explain(&self, state: &f64, history: &[f64], _step: usize) -> Option<Explanation> {
        let w = self.min_observations();
        let window = &history[history.len().saturating_sub(w)..];
        let std = explain::population_std(window);
        let main = Driver::new(
            "window_mean",
            MODEL_TYPE,
            Some(*state),
            *state,
            format!("The forecast is the mean of the last {w} observations."),
        );
        let dispersion = Driver::new(
            "window_dispersion",
            "dispersion",
            Some(std),
            0.0,
            "Population standard deviation of the averaged window.",
        );
        Some(explain::rule_based(
            *state,
            main,
            vec![dispersion],
            explain::window_confidence(history.len(), window),
            2 * w,
            Some("A moving average smooths over recent shifts in demand."),
        ))
    }
}

inventory::submit! {
    target_only::registration::<MovingAverageConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{Forecaster, PredictRequest, TrainingData};

    fn build(config: serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        target_only::build::<MovingAverageConfig>(&config)
    }

    fn forecast(
        config: serde_json::Value,
        y: &[f64],
        horizon: usize,
    ) -> Result<Vec<f64>, CoreError> {
        let fitted = build(config)?.fit(&TrainingData::target_only(y, 42))?;
        Ok(fitted.predict(&PredictRequest::horizon(horizon))?.point)
    }

    #[test]
    fn hand_checked_values() {
        let ramp: Vec<f64> = (1..=60).map(f64::from).collect();
        assert_eq!(
            forecast(serde_json::json!({}), &ramp, 3).unwrap(),
            vec![57.0; 3]
        );
        assert_eq!(
            forecast(serde_json::json!({}), &[100.0; 30], 2).unwrap(),
            vec![100.0; 2]
        );
        // A pure weekly season averages to its weekly mean.
        let weekly: Vec<f64> = (0..28).map(|i| f64::from(i % 7 + 1)).collect();
        assert_eq!(
            forecast(serde_json::json!({}), &weekly, 1).unwrap(),
            vec![4.0]
        );
        // Intermittent zeros: mean of [0, 0, 6] = 2.
        assert_eq!(
            forecast(
                serde_json::json!({"window_size": 3}),
                &[5.0, 0.0, 0.0, 6.0],
                1
            )
            .unwrap(),
            vec![2.0]
        );
    }

    #[test]
    fn too_short_and_bad_config() {
        let error = forecast(serde_json::json!({}), &[1.0; 3], 1).unwrap_err();
        assert!(error.to_string().contains("at least 7"), "{error}");
        for bad in [0, 91] {
            let error = build(serde_json::json!({"window_size": bad})).unwrap_err();
            assert!(error.to_string().contains("window_size"), "{error}");
        }
        assert!(build(serde_json::json!({"window_size": "7"})).is_err());
        assert!(build(serde_json::json!({"window": 7})).is_err());
    }

    #[test]
    fn round_trip_and_determinism() {
        let model = build(serde_json::json!({"window_size": 5})).unwrap();
        let y: Vec<f64> = (0..40).map(|i| f64::from((i * 37) % 11)).collect();
        let a = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let b = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let reloaded = target_only::load::<MovingAverageConfig>(&a.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 5,
            features: None,
            interval_level: Some(0.8),
        };
        assert_eq!(
            a.predict(&request).unwrap(),
            reloaded.predict(&request).unwrap()
        );
        assert_eq!(a.predict(&request).unwrap(), b.predict(&request).unwrap());
    }
}
