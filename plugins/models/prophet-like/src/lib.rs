//! The `prophet_like` model: median imputation per column (learned on the
//! training X; columns entirely missing at fit time are dropped, as
//! scikit-learn's imputer does), then ridge regression with an intercept.
//!
//! Its forecast decomposes additively into
//! `intercept + trend + seasonality + holiday_regressor (+ other)`, where the
//! groups follow the V1 frame columns: trend = lags and `days_since_launch`,
//! seasonality = calendar columns, holiday_regressor = price, promotion and
//! holiday columns; any further column lands in `other`.

use forecastlab_core::{
    explain::{self, Driver, ExplainMethod, Explanation},
    inventory,
    linalg::{self, RidgeFit},
    model_config::{self, check_float_range},
    supervised::{self, FittedSupervised, Supervised, SupervisedMethod},
    taxonomy::ModelFamily,
    CoreError, FeatureMatrix,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "prophet_like";

/// Trend columns of the decomposition.
pub const TREND: [&str; 5] = ["lag_1", "lag_7", "lag_14", "lag_28", "days_since_launch"];
/// Seasonality columns.
pub const SEASONALITY: [&str; 6] = [
    "dow_sin",
    "dow_cos",
    "month_sin",
    "month_cos",
    "is_weekend",
    "is_month_end",
];
/// Holiday / regressor columns.
pub const HOLIDAY_REGRESSOR: [&str; 3] = ["price_factor", "promo_active", "is_holiday"];

/// Configuration of the prophet-like model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProphetLikeConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `prophet_like`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Ridge penalty α (0–10000, default 1.0).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Hash of the feature config the frame was built with (informational).
    #[serde(default)]
    pub feature_config_hash: Option<String>,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}
fn default_alpha() -> f64 {
    1.0
}

/// Median imputation + ridge, fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Median per training column (0 placeholder for dropped columns).
    pub medians: Vec<f64>,
    /// Indices of the columns kept (finite median).
    pub kept: Vec<usize>,
    /// Ridge over the kept columns.
    pub ridge: RidgeFit,
}

impl Pipeline {
    /// Fits the pipeline.
    pub fn fit(x: &FeatureMatrix, y: &[f64], alpha: f64) -> Result<Self, CoreError> {
        let mut medians = linalg::column_medians(x.values(), x.n_cols());
        let kept: Vec<usize> = (0..x.n_cols())
            .filter(|&j| medians[j].is_finite())
            .collect();
        // Dropped columns keep 0 as a placeholder (never read) so the
        // payload stays valid JSON.
        for median in &mut medians {
            if !median.is_finite() {
                *median = 0.0;
            }
        }
        let mut design = Vec::with_capacity(x.n_rows() * kept.len());
        for row in x.rows() {
            design.extend(kept.iter().map(|&j| impute(row[j], medians[j])));
        }
        let ridge = linalg::ridge(&design, kept.len(), y, alpha)?;
        Ok(Self {
            medians,
            kept,
            ridge,
        })
    }

    /// The contribution `coef · value` of each kept column for one row.
    pub fn contributions(&self, row: &[f64]) -> impl Iterator<Item = (usize, f64)> + '_ {
        let row = row.to_vec();
        self.kept
            .iter()
            .zip(&self.ridge.coef)
            .map(move |(&j, c)| (j, c * impute(row[j], self.medians[j])))
    }

    /// Predictions for every row of `x`.
    pub fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        x.rows()
            .map(|row| self.ridge.intercept + self.contributions(row).map(|(_, v)| v).sum::<f64>())
            .collect()
    }

    /// The additive decomposition of each row of `x`, whose columns are the
    /// training `columns`.
    pub fn decompose(&self, columns: &[String], x: &FeatureMatrix) -> Vec<Decomposition> {
        x.rows()
            .map(|row| {
                let mut parts = Decomposition {
                    intercept: self.ridge.intercept,
                    trend: 0.0,
                    seasonality: 0.0,
                    holiday_regressor: 0.0,
                    other: 0.0,
                };
                for (j, value) in self.contributions(row) {
                    let name = columns[j].as_str();
                    let slot = if TREND.contains(&name) {
                        &mut parts.trend
                    } else if SEASONALITY.contains(&name) {
                        &mut parts.seasonality
                    } else if HOLIDAY_REGRESSOR.contains(&name) {
                        &mut parts.holiday_regressor
                    } else {
                        &mut parts.other
                    };
                    *slot += value;
                }
                parts
            })
            .collect()
    }

    /// Ridge coefficients by training column name (0 for dropped columns).
    pub fn coefficients(&self, columns: &[String]) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = columns.iter().map(|c| (c.clone(), 0.0)).collect();
        for (&j, &c) in self.kept.iter().zip(&self.ridge.coef) {
            out[j].1 = c;
        }
        out
    }
}

fn impute(value: f64, median: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        median
    }
}

/// The additive parts of one forecast step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decomposition {
    /// Ridge intercept.
    pub intercept: f64,
    /// Lags and `days_since_launch`.
    pub trend: f64,
    /// Calendar columns.
    pub seasonality: f64,
    /// Price, promotion and holiday columns.
    pub holiday_regressor: f64,
    /// Columns outside the V1 groups (V2 frames).
    pub other: f64,
}

impl Decomposition {
    /// The sum of the parts (equals the point forecast).
    pub fn total(&self) -> f64 {
        self.intercept + self.trend + self.seasonality + self.holiday_regressor + self.other
    }
}

impl SupervisedMethod for ProphetLikeConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    const PAYLOAD_FIELD: &'static str = "pipeline";
    type Model = Pipeline;

    fn validate(&self) -> Result<(), CoreError> {
        check_float_range("alpha", self.alpha, 0.0, 10_000.0)
    }

    fn fit_model(&self, x: &FeatureMatrix, y: &[f64], _seed: u64) -> Result<Pipeline, CoreError> {
        Pipeline::fit(x, y, self.alpha)
    }

    fn predict_model(&self, pipeline: &Pipeline, x: &FeatureMatrix) -> Vec<f64> {
        pipeline.predict(x)
    }

    /// Exact components: intercept + coefficient × (imputed) value of each
    /// kept column.
    fn explain_model(
        &self,
        pipeline: &Pipeline,
        x: &FeatureMatrix,
        row: usize,
    ) -> Option<Explanation> {
        let values = x.rows().nth(row)?;
        let columns = x.columns();
        let drivers: Vec<Driver> = pipeline
            .contributions(values)
            .map(|(j, contribution)| {
                let name = columns[j].as_str();
                let value = impute(values[j], pipeline.medians[j]);
                let imputed = if values[j].is_finite() {
                    ""
                } else {
                    " (missing; training median used)"
                };
                Driver::new(
                    name,
                    explain::feature_group(name),
                    Some(value),
                    contribution,
                    format!("coefficient × {name} = {contribution:+.3}{imputed}"),
                )
            })
            .collect();
        let prediction = self.predict_model(pipeline, &supervised::slice_rows(x, row..row + 1));
        Some(Explanation {
            method: ExplainMethod::Component,
            prediction: *prediction.first()?,
            base_value: pipeline.ridge.intercept,
            drivers,
            confidence: None,
            history_needed: 30,
            caveat: None,
        })
    }
}

/// Unfitted prophet-like model.
pub type ProphetLike = Supervised<ProphetLikeConfig>;

/// Fitted prophet-like model; its payload holds the [`Pipeline`] under
/// `pipeline`.
pub type FittedProphetLike = FittedSupervised<ProphetLikeConfig>;

inventory::submit! {
    supervised::registration::<ProphetLikeConfig>(ModelFamily::Additive, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use forecastlab_core::{FittedModel, Forecaster, PredictRequest, TrainingData};

    use super::*;

    fn build(config: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        supervised::build::<ProphetLikeConfig>(config)
    }

    fn load(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
        supervised::load::<ProphetLikeConfig>(payload)
    }

    const COLUMNS: [&str; 5] = [
        "lag_7",
        "dow_sin",
        "dow_cos",
        "promo_active",
        "days_since_launch",
    ];

    fn retail(n: usize) -> (FeatureMatrix, Vec<f64>) {
        let mut y = Vec::with_capacity(n);
        let mut state = 99u64;
        let promo = |i: usize| if i % 19 < 3 { 1.0 } else { 0.0 };
        for i in 0..n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 3.0;
            let angle = 2.0 * std::f64::consts::PI * (i % 7) as f64 / 7.0;
            y.push(30.0 + 8.0 * angle.sin() + 20.0 * promo(i) + noise);
        }
        let mut x = FeatureMatrix::new(COLUMNS.iter().map(|c| (*c).to_owned()).collect());
        for i in 0..n {
            let angle = 2.0 * std::f64::consts::PI * (i % 7) as f64 / 7.0;
            let lag = if i >= 7 { y[i - 7] } else { f64::NAN };
            // No launch date: the column is entirely NaN and gets dropped.
            x.push_row(&[lag, angle.sin(), angle.cos(), promo(i), f64::NAN])
                .unwrap();
        }
        (x, y)
    }

    fn fit(config: serde_json::Value, x: &FeatureMatrix, y: &[f64]) -> Box<dyn FittedModel> {
        build(&config)
            .unwrap()
            .fit(&TrainingData {
                target: y,
                features: Some(x),
                seed: 42,
            })
            .unwrap()
    }

    #[test]
    fn recovers_a_linear_model_and_imputes_medians() {
        // y = 3 + 2a − b exactly; alpha 0 recovers it; a NaN in `a` at
        // predict time is replaced by the training median of `a`.
        let mut x = FeatureMatrix::new(vec!["a".into(), "b".into()]);
        let mut y = Vec::new();
        for i in 0..21 {
            let (a, b) = (f64::from(i), f64::from((i * 3) % 7));
            x.push_row(&[a, b]).unwrap();
            y.push(3.0 + 2.0 * a - b);
        }
        let fitted = fit(serde_json::json!({"alpha": 0.0}), &x, &y);
        let mut future = FeatureMatrix::new(vec!["a".into(), "b".into()]);
        future.push_row(&[30.0, 1.0]).unwrap();
        future.push_row(&[f64::NAN, 0.0]).unwrap();
        let point = fitted
            .predict(&PredictRequest {
                horizon: 2,
                features: Some(&future),
                interval_level: None,
            })
            .unwrap()
            .point;
        assert!((point[0] - 62.0).abs() < 1e-8, "{point:?}");
        assert!((point[1] - 23.0).abs() < 1e-8, "{point:?}");
    }

    #[test]
    fn decomposition_sums_to_the_forecast_and_beats_naive() {
        let (x, y) = retail(300);
        let train = 272;
        let xt = supervised::slice_rows(&x, 0..train);
        let xf = supervised::slice_rows(&x, train..300);
        let config = ProphetLikeConfig {
            schema_version: "1.0".into(),
            model_type: MODEL_TYPE.into(),
            alpha: 1.0,
            feature_config_hash: None,
        };
        let fitted = ProphetLike::new(config)
            .unwrap()
            .fit(&TrainingData {
                target: &y[..train],
                features: Some(&xt),
                seed: 1,
            })
            .unwrap();
        let request = PredictRequest {
            horizon: 28,
            features: Some(&xf),
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        let payload = fitted.to_payload().unwrap();
        let concrete: FittedProphetLike = serde_json::from_slice(&payload).unwrap();
        assert!(
            !concrete.model.kept.contains(&4),
            "all-NaN column is dropped"
        );
        let parts = concrete.model.decompose(&concrete.columns, &xf);
        for (parts, point) in parts.iter().zip(&forecast.point) {
            assert!((parts.total() - point).abs() < 1e-9);
            assert_eq!(parts.other, 0.0);
        }
        let actual = &y[train..];
        let wape = |f: &[f64]| {
            f.iter()
                .zip(actual)
                .map(|(p, a)| (p - a).abs())
                .sum::<f64>()
                / actual.iter().sum::<f64>()
        };
        let naive = wape(&vec![y[train - 1]; 28]);
        assert!(
            wape(&forecast.point) < naive,
            "{} vs {naive}",
            wape(&forecast.point)
        );
        let reloaded = load(&payload).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
        assert_eq!(
            fit(serde_json::json!({}), &xt, &y[..train])
                .predict(&request)
                .unwrap(),
            forecast
        );
    }

    #[test]
    fn inputs_and_config_are_checked() {
        let (x, y) = retail(40);
        assert!(build(&serde_json::json!({}))
            .unwrap()
            .fit(&TrainingData::target_only(&y, 1))
            .is_err());
        let fitted = fit(serde_json::json!({}), &x, &y);
        assert!(fitted.predict(&PredictRequest::horizon(1)).is_err());
        for bad in [-1.0, 10_000.5] {
            let error = build(&serde_json::json!({"alpha": bad})).unwrap_err();
            assert!(error.to_string().contains("alpha"), "{error}");
        }
        assert!(build(&serde_json::json!({"beta": 1})).is_err());
        let model = build(&serde_json::json!({"alpha": 2.5})).unwrap();
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"prophet_like","alpha":2.5,"feature_config_hash":null}"#
        );
    }
}
