//! IMAPA (Petropoulos & Kourentzes, 2015), as statsforecast's `IMAPA`: the
//! ADIDA forecast at every aggregation level from 1 to the rounded mean
//! interval between demands, averaged. A series without any demand
//! forecasts zero.

use forecastlab_core::{
    inventory,
    model_config::schema_version,
    smoothing,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use forecastlab_model_adida::aggregated_forecast;
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "imapa";

/// Configuration of IMAPA (no tunable fields; unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapaConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `imapa`.
    #[serde(default = "model_type")]
    pub model_type: String,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

/// The IMAPA forecast of one step after `y`.
pub fn imapa_mean(y: &[f64]) -> f64 {
    match smoothing::aggregation_level(y) {
        None => 0.0,
        Some(max_level) => {
            (1..=max_level)
                .map(|level| aggregated_forecast(y, level))
                .sum::<f64>()
                / max_level as f64
        }
    }
}

impl TargetOnlyMethod for ImapaConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The constant forecast.
    type State = f64;

    fn validate(&self) -> Result<(), CoreError> {
        Ok(())
    }

    fn min_observations(&self) -> usize {
        1
    }

    fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
        Ok(imapa_mean(y))
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }
}

inventory::submit! {
    target_only::registration::<ImapaConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    #[test]
    fn averages_the_levels() {
        // Demand every third period: levels 1, 2 and 3 are averaged.
        let y: Vec<f64> = (0..30)
            .map(|i| if i % 3 == 2 { 6.0 } else { 0.0 })
            .collect();
        let expected = (1..=3).map(|l| aggregated_forecast(&y, l)).sum::<f64>() / 3.0;
        assert!((imapa_mean(&y) - expected).abs() < 1e-12);
        // At level 3 every block holds one demand of 6: 2 per period.
        assert!((aggregated_forecast(&y, 3) - 2.0).abs() < 1e-12);
        assert_eq!(imapa_mean(&[0.0; 4]), 0.0);
    }

    #[test]
    fn fit_predict_reload() {
        let model = target_only::build::<ImapaConfig>(&serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..50)
            .map(|i| if i % 4 == 0 { 2.0 } else { 0.0 })
            .collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 2,
            features: None,
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point, vec![imapa_mean(&y); 2]);
        assert!(forecast.interval.is_some());
        let reloaded = target_only::load::<ImapaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
    }
}
