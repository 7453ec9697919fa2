//! Seasonal average: horizon day j is the mean of the values one, two, …, L
//! seasons before it (`H[|H| − 1 − (k·S − j)]` for k = 1…L), optionally
//! trimming one minimum and one maximum when at least four samples exist.
//! Days with no sample fall back to the last value.

use forecastlab_core::{
    explain::{self, Confidence, Driver, Explanation},
    inventory,
    model_config::{self, check_range},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "seasonal_average";

/// Configuration of the seasonal average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonalAverageConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `seasonal_average`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Season length S (2–365, default 7).
    #[serde(default = "default_season_length")]
    pub season_length: i64,
    /// Cycles L averaged (2–12, default 4).
    #[serde(default = "default_lookback_cycles")]
    pub lookback_cycles: i64,
    /// Drop one minimum and one maximum when ≥ 4 samples (default false).
    #[serde(default)]
    pub trim_outliers: bool,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_season_length() -> i64 {
    7
}

fn default_lookback_cycles() -> i64 {
    4
}

impl SeasonalAverageConfig {
    fn season(&self) -> usize {
        usize::try_from(self.season_length).unwrap_or(2)
    }

    fn cycles(&self) -> usize {
        usize::try_from(self.lookback_cycles).unwrap_or(2)
    }
}

impl TargetOnlyMethod for SeasonalAverageConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The last S·L values (all values when fewer).
    type State = Vec<f64>;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("season_length", self.season_length, 2, 365)?;
        check_range("lookback_cycles", self.lookback_cycles, 2, 12)
    }

    fn min_observations(&self) -> usize {
        2 * self.season()
    }

    fn fit_state(&self, y: &[f64]) -> Result<Vec<f64>, CoreError> {
        let keep = (self.season() * self.cycles()).min(y.len());
        Ok(y[y.len() - keep..].to_vec())
    }

    fn forecast(&self, history: &Vec<f64>, _n: usize, horizon: usize) -> Vec<f64> {
        let season = self.season();
        let len = history.len();
        let last = history.last().copied().unwrap_or(f64::NAN);
        let mut samples = Vec::with_capacity(self.cycles());
        (1..=horizon)
            .map(|j| {
                samples.clear();
                for k in 1..=self.cycles() {
                    let offset = (k * season) as isize - j as isize;
                    if offset >= 0 && (offset as usize) < len {
                        samples.push(history[len - 1 - offset as usize]);
                    }
                }
                if samples.is_empty() {
                    return last;
                }
                if self.trim_outliers && samples.len() >= 4 {
                    samples.sort_unstable_by(f64::total_cmp);
                    let inner = &samples[1..samples.len() - 1];
                    return inner.iter().sum::<f64>() / inner.len() as f64;
                }
                samples.iter().sum::<f64>() / samples.len() as f64
            })
            .collect()
    }

    fn explain(&self, state: &Vec<f64>, history: &[f64], step: usize) -> Option<Explanation> {
        let season = self.season();
        let value = *self.forecast(state, history.len(), step).last()?;
        let len = state.len();
        let mut samples: Vec<f64> = (1..=self.cycles())
            .filter_map(|k| {
                let offset = (k * season) as isize - step as isize;
                (offset >= 0 && (offset as usize) < len).then(|| state[len - 1 - offset as usize])
            })
            .collect();
        if self.trim_outliers && samples.len() >= 4 {
            samples.sort_unstable_by(f64::total_cmp);
            samples = samples[1..samples.len() - 1].to_vec();
        }
        let main = Driver::new(
            "seasonal_window_mean",
            MODEL_TYPE,
            Some(value),
            value,
            format!(
                "The forecast averages {} earlier values on the same position of the {season}-day season.",
                samples.len()
            ),
        );
        let dispersion = Driver::new(
            "sample_dispersion",
            "dispersion",
            Some(explain::population_std(&samples)),
            0.0,
            "Population standard deviation of the averaged seasonal samples.",
        );
        let confidence = if history.len() < season * self.cycles() {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        Some(explain::rule_based(
            value,
            main,
            vec![dispersion],
            confidence,
            2 * season,
            None,
        ))
    }
}

inventory::submit! {
    target_only::registration::<SeasonalAverageConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{Forecaster, PredictRequest, TrainingData};

    fn build(config: serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        target_only::build::<SeasonalAverageConfig>(&config)
    }

    fn forecast(
        config: serde_json::Value,
        y: &[f64],
        horizon: usize,
    ) -> Result<Vec<f64>, CoreError> {
        let fitted = build(config)?.fit(&TrainingData::target_only(y, 42))?;
        Ok(fitted.predict(&PredictRequest::horizon(horizon))?.point)
    }

    fn weeks(n: usize) -> Vec<f64> {
        (0..n * 7).map(|i| 10.0 * (i % 7 + 1) as f64).collect()
    }

    #[test]
    fn acceptance_values() {
        let week: Vec<f64> = (1..=7).map(|d| 10.0 * f64::from(d)).collect();
        assert_eq!(forecast(serde_json::json!({}), &weeks(4), 7).unwrap(), week);
        assert_eq!(
            forecast(serde_json::json!({"lookback_cycles": 2}), &weeks(6), 7).unwrap(),
            week
        );
        // Day-1 values 5, 10, 100, 50 across four weeks, others 1.
        let mut y = vec![1.0; 28];
        for (w, v) in [5.0, 10.0, 100.0, 50.0].into_iter().enumerate() {
            y[w * 7] = v;
        }
        assert_eq!(forecast(serde_json::json!({}), &y, 1).unwrap(), vec![41.25]);
        assert_eq!(
            forecast(serde_json::json!({"trim_outliers": true}), &y, 1).unwrap(),
            vec![30.0]
        );
        let ramp: Vec<f64> = (1..=14).map(f64::from).collect();
        assert_eq!(
            forecast(serde_json::json!({"lookback_cycles": 2}), &ramp, 15).unwrap(),
            vec![4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 14.0]
        );
        assert_eq!(
            forecast(serde_json::json!({}), &[2.0; 20], 3).unwrap(),
            vec![2.0; 3]
        );
    }

    #[test]
    fn too_short_and_bad_config() {
        let error = forecast(serde_json::json!({}), &[1.0; 10], 1).unwrap_err();
        assert!(error.to_string().contains("at least 14"), "{error}");
        for (config, field) in [
            (serde_json::json!({"season_length": 1}), "season_length"),
            (serde_json::json!({"season_length": 366}), "season_length"),
            (serde_json::json!({"lookback_cycles": 1}), "lookback_cycles"),
            (
                serde_json::json!({"lookback_cycles": 13}),
                "lookback_cycles",
            ),
        ] {
            let error = build(config).unwrap_err();
            assert!(error.to_string().contains(field), "{error}");
        }
        assert!(build(serde_json::json!({"trim_outliers": "yes"})).is_err());
    }

    #[test]
    fn round_trip_and_determinism() {
        let model = build(serde_json::json!({"trim_outliers": true})).unwrap();
        let y: Vec<f64> = (0..60).map(|i| f64::from((i * 37) % 11)).collect();
        let a = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let reloaded =
            target_only::load::<SeasonalAverageConfig>(&a.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 9,
            features: None,
            interval_level: Some(0.8),
        };
        assert_eq!(
            a.predict(&request).unwrap(),
            reloaded.predict(&request).unwrap()
        );
    }
}
