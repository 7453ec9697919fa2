//! Weighted moving average: a constant forecast `Σwᵢyᵢ / Σwᵢ` over the last
//! W values, with linear (1, 2, …, W) or exponential (decay^(W−1), …, 1)
//! weights, oldest first.

use forecastlab_core::{
    explain::{self, Driver, Explanation},
    inventory,
    model_config::{self, check_open_range, check_range},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "weighted_moving_average";

/// How the weights grow towards the newest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightStrategy {
    /// 1, 2, …, W.
    Linear,
    /// decay^(W−1), …, decay, 1.
    Exponential,
}

/// Configuration of the weighted moving average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedMovingAverageConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `weighted_moving_average`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Window W (2–90, default 7).
    #[serde(default = "default_window_size")]
    pub window_size: i64,
    /// `linear` (default) or `exponential`.
    #[serde(default = "default_strategy")]
    pub weight_strategy: WeightStrategy,
    /// Exponential decay in (0, 1), exclusive (default 0.7).
    #[serde(default = "default_decay")]
    pub decay: f64,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_window_size() -> i64 {
    7
}

fn default_strategy() -> WeightStrategy {
    WeightStrategy::Linear
}

fn default_decay() -> f64 {
    0.7
}

impl WeightedMovingAverageConfig {
    /// Weights oldest → newest.
    pub fn weights(&self) -> Vec<f64> {
        let w = usize::try_from(self.window_size).unwrap_or(2);
        match self.weight_strategy {
            WeightStrategy::Linear => (1..=w).map(|i| i as f64).collect(),
            WeightStrategy::Exponential => (0..w)
                .map(|i| self.decay.powi((w - 1 - i) as i32))
                .collect(),
        }
    }
}

impl TargetOnlyMethod for WeightedMovingAverageConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The weighted mean.
    type State = f64;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("window_size", self.window_size, 2, 90)?;
        check_open_range("decay", self.decay, 0.0, 1.0)
    }

    fn min_observations(&self) -> usize {
        usize::try_from(self.window_size).unwrap_or(2)
    }

    fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
        let weights = self.weights();
        let window = &y[y.len() - weights.len()..];
        let total: f64 = weights.iter().sum();
        Ok(weights.iter().zip(window).map(|(w, v)| w * v).sum::<f64>() / total)
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }

    fn explain(&self, state: &f64, history: &[f64], _step: usize) -> Option<Explanation> {
        let w = self.min_observations();
        let window = &history[history.len().saturating_sub(w)..];
        let main = Driver::new(
            "weighted_window_mean",
            MODEL_TYPE,
            Some(*state),
            *state,
            format!("The forecast is the weighted mean of the last {w} observations, newest weighted most."),
        );
        let dispersion = Driver::new(
            "window_dispersion",
            "dispersion",
            Some(explain::population_std(window)),
            0.0,
            "Population standard deviation of the averaged window.",
        );
        Some(explain::rule_based(
            *state,
            main,
            vec![dispersion],
            explain::window_confidence(history.len(), window),
            2 * w,
            None,
        ))
    }
}

inventory::submit! {
    target_only::registration::<WeightedMovingAverageConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{Forecaster, PredictRequest, TrainingData};

    fn build(config: serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        target_only::build::<WeightedMovingAverageConfig>(&config)
    }

    fn forecast(config: serde_json::Value, y: &[f64]) -> Result<f64, CoreError> {
        let fitted = build(config)?.fit(&TrainingData::target_only(y, 42))?;
        Ok(fitted.predict(&PredictRequest::horizon(2))?.point[0])
    }

    fn ramp(n: i32) -> Vec<f64> {
        (1..=n).map(f64::from).collect()
    }

    #[test]
    fn acceptance_values() {
        assert!((forecast(serde_json::json!({}), &ramp(7)).unwrap() - 5.0).abs() < 1e-12);
        let exp =
            serde_json::json!({"window_size": 5, "weight_strategy": "exponential", "decay": 0.5});
        let value = forecast(exp, &ramp(5)).unwrap();
        assert!((value - 8.0625 / 1.9375).abs() < 1e-12, "{value}");
        assert!(
            (forecast(serde_json::json!({"window_size": 10}), &ramp(10)).unwrap() - 7.0).abs()
                < 1e-12
        );
        assert_eq!(forecast(serde_json::json!({}), &[3.0; 9]).unwrap(), 3.0);
        // Intermittent: weights 1, 2, 3 on [0, 0, 6] → 18 / 6 = 3.
        assert_eq!(
            forecast(serde_json::json!({"window_size": 3}), &[0.0, 0.0, 6.0]).unwrap(),
            3.0
        );
    }

    #[test]
    fn too_short_and_bad_config() {
        let error = forecast(serde_json::json!({}), &ramp(6)).unwrap_err();
        assert!(error.to_string().contains("at least 7"), "{error}");
        for (config, field) in [
            (serde_json::json!({"window_size": 1}), "window_size"),
            (serde_json::json!({"window_size": 91}), "window_size"),
            (serde_json::json!({"decay": 1.0}), "decay"),
            (serde_json::json!({"decay": 0.0}), "decay"),
        ] {
            let error = build(config).unwrap_err();
            assert!(error.to_string().contains(field), "{error}");
        }
        assert!(build(serde_json::json!({"weight_strategy": "cubic"})).is_err());
        let model = build(serde_json::json!({})).unwrap();
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"weighted_moving_average","window_size":7,"weight_strategy":"linear","decay":0.7}"#
        );
    }

    #[test]
    fn round_trip_and_determinism() {
        let model = build(serde_json::json!({"weight_strategy": "exponential"})).unwrap();
        let y: Vec<f64> = (0..40).map(|i| f64::from((i * 37) % 11)).collect();
        let a = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let reloaded =
            target_only::load::<WeightedMovingAverageConfig>(&a.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 5,
            features: None,
            interval_level: Some(0.8),
        };
        assert_eq!(
            a.predict(&request).unwrap(),
            reloaded.predict(&request).unwrap()
        );
    }
}
