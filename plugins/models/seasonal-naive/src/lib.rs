//! Seasonal naive: step h (0-based) repeats `y[n − S + (h mod S)]`, the value
//! one season before.

use forecastlab_core::{
    explain::{self, Confidence, Driver, Explanation},
    inventory,
    model_config::{self, check_range},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "seasonal_naive";

/// Configuration of the seasonal naive model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonalNaiveConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `seasonal_naive`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Season length S (1–365, default 7).
    #[serde(default = "default_season_length")]
    pub season_length: i64,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_season_length() -> i64 {
    7
}

impl SeasonalNaiveConfig {
    fn season(&self) -> usize {
        usize::try_from(self.season_length).unwrap_or(1)
    }
}

impl TargetOnlyMethod for SeasonalNaiveConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The last S values.
    type State = Vec<f64>;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("season_length", self.season_length, 1, 365)
    }

    fn min_observations(&self) -> usize {
        self.season()
    }

    fn fit_state(&self, y: &[f64]) -> Result<Vec<f64>, CoreError> {
        Ok(y[y.len() - self.season()..].to_vec())
    }

    fn forecast(&self, state: &Vec<f64>, _n: usize, horizon: usize) -> Vec<f64> {
        (0..horizon).map(|h| state[h % state.len()]).collect()
    }

    fn explain(&self, state: &Vec<f64>, history: &[f64], step: usize) -> Option<Explanation> {
        let season = self.season();
        let value = *state.get((step.max(1) - 1) % state.len().max(1))?;
        let main = Driver::new(
            "season_match",
            MODEL_TYPE,
            Some(value),
            value,
            format!("The forecast repeats the value observed one season ({season} days) earlier."),
        );
        let confidence = if history.len() < 2 * season {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        Some(explain::rule_based(
            value,
            main,
            Vec::new(),
            confidence,
            2 * season,
            Some("The seasonal naive model assumes the previous cycle repeats exactly."),
        ))
    }
}

inventory::submit! {
    target_only::registration::<SeasonalNaiveConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    fn forecast(
        config: serde_json::Value,
        y: &[f64],
        horizon: usize,
    ) -> Result<Vec<f64>, CoreError> {
        let fitted = target_only::build::<SeasonalNaiveConfig>(&config)?
            .fit(&TrainingData::target_only(y, 42))?;
        Ok(fitted.predict(&PredictRequest::horizon(horizon))?.point)
    }

    fn weekly(weeks: usize) -> Vec<f64> {
        (0..weeks * 7).map(|i| 10.0 * (i % 7 + 1) as f64).collect()
    }

    #[test]
    fn repeats_the_last_season() {
        let week: Vec<f64> = (1..=7).map(|d| 10.0 * f64::from(d)).collect();
        let y = weekly(3);
        let two_weeks: Vec<f64> = week.iter().chain(&week).copied().collect();
        assert_eq!(forecast(serde_json::json!({}), &y, 14).unwrap(), two_weeks);
        assert_eq!(
            forecast(serde_json::json!({}), &y, 3).unwrap(),
            vec![10.0, 20.0, 30.0]
        );
        assert_eq!(
            forecast(serde_json::json!({}), &[4.0; 9], 3).unwrap(),
            vec![4.0; 3]
        );
        // Intermittent zeros repeat as they were.
        let sparse = [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 1.0];
        assert_eq!(
            forecast(serde_json::json!({}), &sparse, 7).unwrap(),
            sparse.to_vec()
        );
        // S = 1 is the naive forecast; a trend is not extrapolated.
        let ramp: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            forecast(serde_json::json!({"season_length": 1}), &ramp, 2).unwrap(),
            vec![10.0; 2]
        );
    }

    #[test]
    fn too_short_and_bad_config() {
        let error = forecast(serde_json::json!({}), &[1.0; 6], 1).unwrap_err();
        assert!(error.to_string().contains("at least 7"), "{error}");
        for bad in [0, 366] {
            let error = target_only::build::<SeasonalNaiveConfig>(
                &serde_json::json!({"season_length": bad}),
            )
            .unwrap_err();
            assert!(error.to_string().contains("season_length"), "{error}");
        }
        assert!(target_only::build::<SeasonalNaiveConfig>(
            &serde_json::json!({"season_length": 7.5})
        )
        .is_err());
        assert!(
            target_only::build::<SeasonalNaiveConfig>(&serde_json::json!({"extra": 1})).is_err()
        );
        let model = target_only::build::<SeasonalNaiveConfig>(&serde_json::json!({})).unwrap();
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"seasonal_naive","season_length":7}"#
        );
    }

    #[test]
    fn round_trip_and_determinism() {
        let model = target_only::build::<SeasonalNaiveConfig>(&serde_json::json!({})).unwrap();
        let y = weekly(8);
        let a = model.fit(&TrainingData::target_only(&y, 42)).unwrap();
        let b = model.fit(&TrainingData::target_only(&y, 42)).unwrap();
        let reloaded = target_only::load::<SeasonalNaiveConfig>(&a.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 10,
            features: None,
            interval_level: Some(0.9),
        };
        assert_eq!(
            a.predict(&request).unwrap(),
            reloaded.predict(&request).unwrap()
        );
        assert_eq!(a.predict(&request).unwrap(), b.predict(&request).unwrap());
    }
}
