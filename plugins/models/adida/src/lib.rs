//! ADIDA (Nikolopoulos et al., 2011), as statsforecast's `ADIDA`: the series
//! is summed over non-overlapping blocks as long as the mean interval
//! between demands (rounded), the block sums are forecast by simple
//! exponential smoothing with the MSE-optimal α in [0.1, 0.3], and the
//! forecast is spread evenly back over the block. A series without any
//! demand forecasts zero.

use forecastlab_core::{
    inventory,
    model_config::schema_version,
    smoothing,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "adida";

/// Configuration of ADIDA (no tunable fields; unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdidaConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `adida`.
    #[serde(default = "model_type")]
    pub model_type: String,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

/// The per-period forecast from blocks of `level` periods: the optimised
/// SES forecast of the block sums divided by `level` (0 when no block
/// fits).
pub fn aggregated_forecast(y: &[f64], level: usize) -> f64 {
    let sums = smoothing::block_sums(y, level);
    if sums.is_empty() {
        return 0.0;
    }
    smoothing::optimized_ses_forecast(&sums) / level as f64
}

/// The ADIDA forecast of one step after `y`.
pub fn adida_mean(y: &[f64]) -> f64 {
    smoothing::aggregation_level(y).map_or(0.0, |level| aggregated_forecast(y, level))
}

impl TargetOnlyMethod for AdidaConfig {
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
        Ok(adida_mean(y))
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }
}

inventory::submit! {
    target_only::registration::<AdidaConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    #[test]
    fn aggregates_by_the_mean_interval() {
        // Demand every second period: level 2, every block sums to 4, so
        // any smoothing forecasts 4 → 2 per period.
        let y: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 1 { 4.0 } else { 0.0 })
            .collect();
        assert_eq!(smoothing::aggregation_level(&y), Some(2));
        assert!((adida_mean(&y) - 2.0).abs() < 1e-12);
        assert_eq!(adida_mean(&[0.0; 6]), 0.0);
        // Smooth demand (level 1) is the optimised SES forecast itself.
        let smooth = [3.0, 5.0, 4.0, 6.0, 5.0];
        assert!((adida_mean(&smooth) - smoothing::optimized_ses_forecast(&smooth)).abs() < 1e-12);
    }

    #[test]
    fn fit_predict_reload() {
        let model = target_only::build::<AdidaConfig>(&serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..60)
            .map(|i| {
                if i % 3 == 0 {
                    f64::from(i % 5) + 1.0
                } else {
                    0.0
                }
            })
            .collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 6,
            features: None,
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point, vec![adida_mean(&y); 6]);
        assert!(forecast.interval.is_some());
        let reloaded = target_only::load::<AdidaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
    }
}
