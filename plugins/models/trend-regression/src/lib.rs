//! Trend regression baseline (`trend_regression_baseline`): ridge regression
//! (unpenalised intercept) on the elapsed index e, plus optional synthetic
//! one-hots for `e mod 7` (weekday) and `(e div 30) mod 12` (month).
//! Training rows use e = 0…n−1, predictions e = n…n+h−1.

use forecastlab_core::{
    explain::{self, Confidence, Driver, Explanation},
    inventory,
    linalg::{Moments, RidgeFit},
    model_config::{self, check_float_range},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "trend_regression_baseline";

/// Configuration of the trend regression baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendRegressionConfig {
    /// Config schema version.
    #[serde(default = "model_config::schema_version")]
    pub schema_version: String,
    /// Always `trend_regression_baseline`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Ridge penalty α (0–1000, default 1.0).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Add 7 weekday one-hot columns (default true).
    #[serde(default = "yes")]
    pub include_dow: bool,
    /// Add 12 month one-hot columns (default true).
    #[serde(default = "yes")]
    pub include_month: bool,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_alpha() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

impl TrendRegressionConfig {
    /// Number of design columns.
    pub fn n_cols(&self) -> usize {
        1 + if self.include_dow { 7 } else { 0 } + if self.include_month { 12 } else { 0 }
    }

    /// Appends the design row of elapsed index `e` to `out`.
    pub fn design_row(&self, e: usize, out: &mut Vec<f64>) {
        out.push(e as f64);
        if self.include_dow {
            out.extend((0..7).map(|d| if e % 7 == d { 1.0 } else { 0.0 }));
        }
        if self.include_month {
            let month = (e / 30) % 12;
            out.extend((0..12).map(|m| if month == m { 1.0 } else { 0.0 }));
        }
    }
}

/// One-pass sums of the trend design: e, weekday d, month m, target y.
#[derive(Debug, Default)]
struct Sums {
    ee: f64,
    ey: f64,
    e: f64,
    y: f64,
    e_d: [f64; 7],
    n_d: [f64; 7],
    y_d: [f64; 7],
    e_m: [f64; 12],
    n_m: [f64; 12],
    y_m: [f64; 12],
    n_dm: [[f64; 12]; 7],
}

impl TrendRegressionConfig {
    /// Assembles `XᵀX`, `Xᵀy` and the column sums from [`Sums`].
    fn moments(&self, s: &Sums, n: usize) -> Result<Moments, CoreError> {
        let p = self.n_cols();
        let month_base = if self.include_dow { 8 } else { 1 };
        let mut xtx = vec![0.0; p * p];
        let mut xty = vec![0.0; p];
        let mut x_sum = vec![0.0; p];
        xtx[0] = s.ee;
        xty[0] = s.ey;
        x_sum[0] = s.e;
        if self.include_dow {
            for d in 0..7 {
                let i = 1 + d;
                xtx[i] = s.e_d[d];
                xtx[i * p] = s.e_d[d];
                xtx[i * p + i] = s.n_d[d];
                xty[i] = s.y_d[d];
                x_sum[i] = s.n_d[d];
            }
        }
        if self.include_month {
            for m in 0..12 {
                let j = month_base + m;
                xtx[j] = s.e_m[m];
                xtx[j * p] = s.e_m[m];
                xtx[j * p + j] = s.n_m[m];
                xty[j] = s.y_m[m];
                x_sum[j] = s.n_m[m];
                if self.include_dow {
                    for d in 0..7 {
                        xtx[(1 + d) * p + j] = s.n_dm[d][m];
                        xtx[j * p + 1 + d] = s.n_dm[d][m];
                    }
                }
            }
        }
        Moments::from_sums(n, xtx, xty, x_sum, s.y)
    }
}

impl TargetOnlyMethod for TrendRegressionConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    type State = RidgeFit;

    fn validate(&self) -> Result<(), CoreError> {
        check_float_range("alpha", self.alpha, 0.0, 1000.0)
    }

    fn min_observations(&self) -> usize {
        2
    }

    fn fit_state(&self, y: &[f64]) -> Result<RidgeFit, CoreError> {
        // The design is sparse (trend + one weekday + one month per row), so
        // its moments reduce to per-weekday / per-month sums accumulated in
        // one pass; the dense X is never built.
        let mut s = Sums::default();
        for (e, &target) in y.iter().enumerate() {
            let x = e as f64;
            let (d, m) = (e % 7, (e / 30) % 12);
            s.ee += x * x;
            s.ey += x * target;
            s.e += x;
            s.y += target;
            s.e_d[d] += x;
            s.n_d[d] += 1.0;
            s.y_d[d] += target;
            s.e_m[m] += x;
            s.n_m[m] += 1.0;
            s.y_m[m] += target;
            s.n_dm[d][m] += 1.0;
        }
        self.moments(&s, y.len())?.ridge(self.alpha)
    }

    fn forecast(&self, fit: &RidgeFit, n: usize, horizon: usize) -> Vec<f64> {
        let mut row = Vec::with_capacity(self.n_cols());
        (n..n + horizon)
            .map(|e| {
                row.clear();
                self.design_row(e, &mut row);
                fit.predict_row(&row)
            })
            .collect()
    }

    fn explain(&self, fit: &RidgeFit, history: &[f64], step: usize) -> Option<Explanation> {
        let e = history.len() + step.max(1) - 1;
        let mut row = Vec::with_capacity(self.n_cols());
        self.design_row(e, &mut row);
        let part =
            |range: std::ops::Range<usize>| -> f64 { range.map(|i| fit.coef[i] * row[i]).sum() };
        let mut drivers = vec![Driver::new(
            "elapsed_day",
            "trend",
            Some(e as f64),
            part(0..1),
            format!("Linear trend at elapsed day {e}."),
        )];
        let mut next = 1;
        if self.include_dow {
            drivers.push(Driver::new(
                "day_of_week",
                "day_of_week",
                Some((e % 7) as f64),
                part(next..next + 7),
                format!("Effect of synthetic weekday {} (elapsed day mod 7).", e % 7),
            ));
            next += 7;
        }
        if self.include_month {
            drivers.push(Driver::new(
                "month_of_year",
                "month",
                Some(((e / 30) % 12) as f64),
                part(next..next + 12),
                format!(
                    "Effect of synthetic month {} ((elapsed day div 30) mod 12).",
                    (e / 30) % 12
                ),
            ));
        }
        Some(Explanation {
            method: explain::ExplainMethod::Component,
            prediction: fit.predict_row(&row),
            base_value: fit.intercept,
            drivers,
            confidence: Some(Confidence::from_history(history.len())),
            history_needed: 14,
            caveat: None,
        })
    }
}

inventory::submit! {
    target_only::registration::<TrendRegressionConfig>(ModelFamily::Additive, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{Forecaster, PredictRequest, TrainingData};

    fn build(config: serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
        target_only::build::<TrendRegressionConfig>(&config)
    }

    fn forecast(
        config: serde_json::Value,
        y: &[f64],
        horizon: usize,
    ) -> Result<Vec<f64>, CoreError> {
        let fitted = build(config)?.fit(&TrainingData::target_only(y, 42))?;
        Ok(fitted.predict(&PredictRequest::horizon(horizon))?.point)
    }

    const PLAIN: &str = r#"{"alpha": 1.0, "include_dow": false, "include_month": false}"#;

    #[test]
    fn acceptance_line() {
        let y: Vec<f64> = (1..=10).map(f64::from).collect();
        let config: serde_json::Value = serde_json::from_str(PLAIN).unwrap();
        let f = forecast(config, &y, 3).unwrap();
        for (got, want) in f.iter().zip([10.93413174, 11.92215569, 12.91017964]) {
            assert!((got - want).abs() < 1e-7, "{f:?}");
        }
    }

    #[test]
    fn one_pass_sums_match_the_dense_ridge() {
        let y: Vec<f64> = (0..400)
            .map(|i| f64::from((i * 37) % 11) + f64::from(i) * 0.05)
            .collect();
        for (dow, month) in [(true, true), (true, false), (false, true), (false, false)] {
            let config = TrendRegressionConfig {
                schema_version: "1.0".into(),
                model_type: MODEL_TYPE.into(),
                alpha: 2.0,
                include_dow: dow,
                include_month: month,
            };
            let mut x = Vec::new();
            for e in 0..y.len() {
                config.design_row(e, &mut x);
            }
            let dense = forecastlab_core::linalg::ridge(&x, config.n_cols(), &y, 2.0).unwrap();
            let fast = config.fit_state(&y).unwrap();
            assert!(
                (dense.intercept - fast.intercept).abs() < 1e-7,
                "{dense:?} {fast:?}"
            );
            for (a, b) in dense.coef.iter().zip(&fast.coef) {
                assert!((a - b).abs() < 1e-7);
            }
        }
    }

    #[test]
    fn constant_weekly_and_zero_series() {
        let f = forecast(serde_json::json!({}), &[5.0; 30], 3).unwrap();
        assert!(f.iter().all(|v| (v - 5.0).abs() < 1e-9), "{f:?}");
        // A pure weekly pattern with a tiny penalty is reproduced closely.
        let y: Vec<f64> = (0..84).map(|i| f64::from(i % 7) * 10.0).collect();
        let f = forecast(
            serde_json::json!({"alpha": 0.001, "include_month": false}),
            &y,
            7,
        )
        .unwrap();
        for (h, v) in f.iter().enumerate() {
            let want = ((84 + h) % 7) as f64 * 10.0;
            assert!((v - want).abs() < 0.05, "step {h}: {v} vs {want}");
        }
        // alpha 0 with collinear one-hots still solves (minimum norm).
        let f = forecast(serde_json::json!({"alpha": 0.0}), &y, 2).unwrap();
        assert!(f.iter().all(|v| v.is_finite()));
        let sparse = [0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 4.0];
        assert!(forecast(serde_json::json!({}), &sparse, 3)
            .unwrap()
            .iter()
            .all(|v| v.is_finite()));
    }

    #[test]
    fn too_short_and_bad_config() {
        let error = forecast(serde_json::json!({}), &[1.0], 1).unwrap_err();
        assert!(error.to_string().contains("at least 2"), "{error}");
        for bad in [-0.1, 1000.5] {
            let error = build(serde_json::json!({"alpha": bad})).unwrap_err();
            assert!(error.to_string().contains("alpha"), "{error}");
        }
        assert!(build(serde_json::json!({"include_dow": 1})).is_err());
        let model = build(serde_json::json!({})).unwrap();
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"trend_regression_baseline","alpha":1.0,"include_dow":true,"include_month":true}"#
        );
    }

    #[test]
    fn round_trip_and_determinism() {
        let model = build(serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..90)
            .map(|i| f64::from((i * 37) % 11) + f64::from(i) * 0.1)
            .collect();
        let a = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let b = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let reloaded =
            target_only::load::<TrendRegressionConfig>(&a.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 14,
            features: None,
            interval_level: Some(0.95),
        };
        assert_eq!(
            a.predict(&request).unwrap(),
            reloaded.predict(&request).unwrap()
        );
        assert_eq!(a.predict(&request).unwrap(), b.predict(&request).unwrap());
    }
}
