//! `mstl`: MSTL decomposition with an AutoETS trend, as statsforecast's
//! `MSTL` (Bandara, Hyndman & Bergmeir 2021). The series is decomposed
//! into one seasonal component per configured period (STL applied in turn,
//! twice over, through the `stlrs` crate) plus trend and remainder; the
//! seasonally adjusted series (trend + remainder) is forecast by a
//! non-seasonal AutoETS (`"ZZN"`), and each seasonal component by
//! repeating its last cycle.
//!
//! Periods the series is too short for (fewer than two full cycles) are
//! left out; with none left the model is a plain non-seasonal AutoETS.

use forecastlab_core::{
    inventory,
    model_config::{field_error, schema_version},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use forecastlab_model_auto_ets::{
    ets::{ErrorKind, SeasonKind, TrendKind},
    fit::{self, Fitted},
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "mstl";

/// Fewest observations an MSTL model fits on (those of its trend model).
pub const MIN_OBSERVATIONS: usize = forecastlab_model_auto_ets::MIN_OBSERVATIONS;
/// Most seasonal periods.
pub const MAX_PERIODS: usize = 3;

/// Configuration of `mstl` (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MstlConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `mstl`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Seasonal periods, each 2–400, distinct, 1–3 of them (`[7]`; daily
    /// retail data with several years may add 365).
    #[serde(default = "default_season_lengths")]
    pub season_lengths: Vec<i64>,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_season_lengths() -> Vec<i64> {
    vec![7]
}

/// A fitted MSTL model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MstlState {
    /// Periods kept (those the series held two cycles of), ascending.
    pub periods: Vec<usize>,
    /// One seasonal component per kept period, over the training series.
    pub seasonal: Vec<Vec<f64>>,
    /// The trend model, fitted on the seasonally adjusted series.
    pub trend: Fitted,
}

impl MstlState {
    /// The seasonal part of step `h` (1-based) after a series of length
    /// `n`, from each component's last cycle within the first `n` values.
    fn seasonal_step(&self, n: usize, h: usize) -> f64 {
        self.periods
            .iter()
            .zip(&self.seasonal)
            .map(|(&p, component)| component[n - p + (h - 1) % p])
            .sum()
    }

    /// Forecasts `horizon` steps after the first `n` values, the trend
    /// coming from `trend_path`.
    fn combine(&self, trend_path: Vec<f64>, n: usize) -> Vec<f64> {
        trend_path
            .into_iter()
            .enumerate()
            .map(|(i, trend)| trend + self.seasonal_step(n, i + 1))
            .collect()
    }
}

/// The non-seasonal AutoETS search of the trend (statsforecast's
/// `AutoETS(model="ZZN")`).
fn trend_candidates(positive: bool) -> Vec<forecastlab_model_auto_ets::ets::Components> {
    fit::candidates(
        &[ErrorKind::Additive, ErrorKind::Multiplicative],
        &[
            (TrendKind::None, false),
            (TrendKind::Additive, false),
            (TrendKind::Additive, true),
        ],
        &[SeasonKind::None],
        1,
        positive,
    )
}

impl MstlConfig {
    /// The configured periods the series is long enough for, ascending.
    fn periods_for(&self, n: usize) -> Vec<usize> {
        let mut periods: Vec<usize> = self
            .season_lengths
            .iter()
            .filter_map(|&p| usize::try_from(p).ok())
            .filter(|&p| n >= 2 * p)
            .collect();
        periods.sort_unstable();
        periods
    }
}

impl TargetOnlyMethod for MstlConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    type State = MstlState;

    fn validate(&self) -> Result<(), CoreError> {
        let lengths = &self.season_lengths;
        if lengths.is_empty() || lengths.len() > MAX_PERIODS {
            return Err(field_error(
                "season_lengths",
                format!(
                    "give 1 to {MAX_PERIODS} seasonal periods, got {}",
                    lengths.len()
                ),
            ));
        }
        if let Some(bad) = lengths.iter().find(|p| !(2..=400).contains(*p)) {
            return Err(field_error(
                "season_lengths",
                format!("each period must lie in [2, 400], got {bad}"),
            ));
        }
        let mut distinct = lengths.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != lengths.len() {
            return Err(field_error("season_lengths", "periods must be distinct"));
        }
        Ok(())
    }

    fn min_observations(&self) -> usize {
        MIN_OBSERVATIONS
    }

    fn fit_state(&self, y: &[f64]) -> Result<MstlState, CoreError> {
        let periods = self.periods_for(y.len());
        let (seasonal, adjusted) = if periods.is_empty() {
            (Vec::new(), y.to_vec())
        } else {
            let decomposition = stlrs::MstlParams::new()
                .fit(y, &periods)
                .map_err(|e| CoreError::input(format!("MSTL decomposition failed: {e}")))?;
            let (seasonal, trend, remainder) = decomposition.into_parts();
            let adjusted = trend.iter().zip(&remainder).map(|(t, r)| t + r).collect();
            (seasonal, adjusted)
        };
        let positive = adjusted.iter().all(|v: &f64| *v > 0.0);
        let trend = fit::select(&trend_candidates(positive), &adjusted, 1).ok_or_else(|| {
            CoreError::input(format!(
                "no trend model fits the seasonally adjusted series of {} observations",
                y.len()
            ))
        })?;
        Ok(MstlState {
            periods,
            seasonal,
            trend,
        })
    }

    fn forecast(&self, state: &MstlState, n: usize, horizon: usize) -> Vec<f64> {
        state.combine(state.trend.forecast(horizon), n)
    }

    /// Re-runs the trend model over the prefix's seasonally adjusted
    /// values; the season repeats the prefix's last cycle.
    fn calibration_forecast(
        &self,
        state: &MstlState,
        prefix: &[f64],
        horizon: usize,
    ) -> Option<Vec<f64>> {
        let n = prefix.len();
        if state.periods.iter().any(|&p| n < p) {
            return None;
        }
        let adjusted: Vec<f64> = prefix
            .iter()
            .enumerate()
            .map(|(t, v)| v - state.seasonal.iter().map(|s| s[t]).sum::<f64>())
            .collect();
        let trend_path = state.trend.forecast_after(&adjusted, horizon)?;
        Some(state.combine(trend_path, n))
    }
}

inventory::submit! {
    target_only::registration::<MstlConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    /// A rising line with a weekly and a 30-day cycle.
    fn two_seasons(n: usize) -> Vec<f64> {
        (0..n)
            .map(|t| {
                let week = [0.0, 3.0, 5.0, 4.0, 2.0, -6.0, -8.0][t % 7];
                let month = 6.0 * (2.0 * std::f64::consts::PI * (t % 30) as f64 / 30.0).sin();
                100.0 + 0.2 * t as f64 + week + month
            })
            .collect()
    }

    fn config(value: serde_json::Value) -> Result<MstlConfig, CoreError> {
        let config: MstlConfig = serde_json::from_value(value).unwrap();
        config.validate().map(|_| config)
    }

    #[test]
    fn periods_are_checked() {
        assert!(config(serde_json::json!({})).is_ok());
        assert!(config(serde_json::json!({"season_lengths": [7, 30]})).is_ok());
        for bad in [
            serde_json::json!([]),
            serde_json::json!([1]),
            serde_json::json!([7, 7]),
            serde_json::json!([7, 14, 30, 365]),
            serde_json::json!([401]),
        ] {
            let error = config(serde_json::json!({"season_lengths": bad})).unwrap_err();
            assert!(error.to_string().contains("season_lengths"), "{error}");
        }
    }

    #[test]
    fn two_seasonal_periods_are_forecast() {
        let y = two_seasons(240);
        let model = config(serde_json::json!({"season_lengths": [7, 30]})).unwrap();
        let state = model.fit_state(&y).unwrap();
        assert_eq!(state.periods, vec![7, 30]);
        let truth = two_seasons(268);
        let path = model.forecast(&state, y.len(), 28);
        let mae: f64 = path
            .iter()
            .zip(&truth[240..])
            .map(|(f, a)| (f - a).abs())
            .sum::<f64>()
            / 28.0;
        assert!(mae < 1.5, "MAE {mae}: {path:?}");
        // Without the 30-day period the error is larger.
        let weekly = config(serde_json::json!({})).unwrap();
        let weekly_path = weekly.forecast(&weekly.fit_state(&y).unwrap(), y.len(), 28);
        let weekly_mae: f64 = weekly_path
            .iter()
            .zip(&truth[240..])
            .map(|(f, a)| (f - a).abs())
            .sum::<f64>()
            / 28.0;
        assert!(weekly_mae > mae, "{weekly_mae} vs {mae}");
        // The calibration path over the whole series is the forecast.
        let again = model.calibration_forecast(&state, &y, 28).unwrap();
        for (a, b) in again.iter().zip(&path) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    #[test]
    fn short_series_drop_their_long_periods() {
        let y = two_seasons(40);
        let model = config(serde_json::json!({"season_lengths": [7, 30]})).unwrap();
        assert_eq!(model.fit_state(&y).unwrap().periods, vec![7]);
        // Too short for any period: a plain non-seasonal AutoETS.
        let bare = model.fit_state(&y[..12]).unwrap();
        assert!(bare.periods.is_empty() && bare.seasonal.is_empty());
        let fitted = target_only::build::<MstlConfig>(&serde_json::json!({}))
            .unwrap()
            .fit(&TrainingData::target_only(&y, 1))
            .unwrap();
        let request = PredictRequest {
            horizon: 7,
            features: None,
            interval_level: Some(0.8),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point.len(), 7);
        let interval = forecast.interval.clone().unwrap();
        assert!(interval
            .lower
            .iter()
            .zip(&forecast.point)
            .all(|(l, p)| l < p));
        let reloaded = target_only::load::<MstlConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
    }
}
