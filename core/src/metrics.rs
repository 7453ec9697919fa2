//! Forecast accuracy metrics: MAE, RMSE, sMAPE, WAPE, bias and the
//! scale-free MASE and RMSSE, computed in one pass over contiguous slices,
//! plus their aggregation across folds.
//!
//! Definitions (A = actuals, F = predictions, n points; an empty input gives
//! NaN for every metric):
//!
//! * MAE = mean |A − F|
//! * RMSE = sqrt(mean (A − F)²)
//! * sMAPE (0–200 scale) = 100 · mean(rᵢ), rᵢ = 0 when Aᵢ = Fᵢ = 0, else
//!   2|Aᵢ − Fᵢ| / (|Aᵢ| + |Fᵢ|)
//! * WAPE (percent) = 100 · Σ|A − F| / Σ|A|, +∞ when Σ|A| = 0
//! * bias = mean (A − F) (positive = under-forecast)
//! * MASE = mean |A − F| / s₁ and RMSSE = sqrt(mean (A − F)² / s₂), where
//!   s₁ and s₂ are the mean absolute and mean squared in-sample errors of
//!   the seasonal naive forecast on the training window ([`Scale`]); NaN
//!   when no scale is known (training window no longer than a season, or a
//!   flat one whose scale is zero)
//!
//! Non-finite values are legal results; the server writes them as `null`.

use crate::CoreError;

/// Metric names in their canonical order.
pub const METRIC_NAMES: [&str; 7] = ["mae", "rmse", "smape", "wape", "bias", "mase", "rmsse"];

/// Season length of the seasonal naive forecast that scales MASE and RMSSE
/// (a week of daily data).
pub const SCALE_SEASON: usize = 7;

/// The in-sample errors of the seasonal naive forecast `ŷₜ = yₜ₋ₛ` on a
/// training window: the denominators of MASE and RMSSE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Mean |yₜ − yₜ₋ₛ| (the MASE denominator).
    pub mae: f64,
    /// Mean (yₜ − yₜ₋ₛ)² (the RMSSE denominator).
    pub mse: f64,
}

impl Scale {
    /// The scale of `train` for season `season` (≥ 1); `None` when the window
    /// holds no more than `season` values or its scale is zero or not
    /// finite (a flat window cannot scale an error).
    pub fn seasonal_naive(train: &[f64], season: usize) -> Option<Self> {
        let season = season.max(1);
        if train.len() <= season {
            return None;
        }
        let (abs, squared) =
            train
                .iter()
                .zip(&train[season..])
                .fold((0.0, 0.0), |(a, s), (past, now)| {
                    let d = now - past;
                    (a + d.abs(), s + d * d)
                });
        let n = (train.len() - season) as f64;
        let scale = Self {
            mae: abs / n,
            mse: squared / n,
        };
        (scale.mae > 0.0 && scale.mae.is_finite() && scale.mse.is_finite()).then_some(scale)
    }
}

/// The seven metrics of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Symmetric mean absolute percentage error, 0–200.
    pub smape: f64,
    /// Weighted absolute percentage error, percent.
    pub wape: f64,
    /// Mean error (actual − forecast).
    pub bias: f64,
    /// Mean absolute scaled error.
    pub mase: f64,
    /// Root mean squared scaled error.
    pub rmsse: f64,
}

impl Metrics {
    /// Every metric NaN (the value for an empty input).
    pub const NAN: Self = Self {
        mae: f64::NAN,
        rmse: f64::NAN,
        smape: f64::NAN,
        wape: f64::NAN,
        bias: f64::NAN,
        mase: f64::NAN,
        rmsse: f64::NAN,
    };

    /// The values in [`METRIC_NAMES`] order.
    pub fn to_array(self) -> [f64; 7] {
        [
            self.mae, self.rmse, self.smape, self.wape, self.bias, self.mase, self.rmsse,
        ]
    }

    /// Builds metrics from values in [`METRIC_NAMES`] order.
    pub fn from_array(values: [f64; 7]) -> Self {
        Self {
            mae: values[0],
            rmse: values[1],
            smape: values[2],
            wape: values[3],
            bias: values[4],
            mase: values[5],
            rmsse: values[6],
        }
    }

    /// The value of the metric called `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        METRIC_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| self.to_array()[i])
    }
}

/// Running sums from which every metric follows. Sums of disjoint point
/// sets merge by addition, so pooled metrics over many folds and series
/// need no second pass over the data.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricSums {
    /// Number of points.
    pub n: usize,
    /// Σ|A − F|.
    pub abs_error: f64,
    /// Σ(A − F)².
    pub squared_error: f64,
    /// Σ of the sMAPE terms rᵢ.
    pub smape_terms: f64,
    /// Σ|A|.
    pub abs_actual: f64,
    /// Σ(A − F).
    pub error: f64,
    /// Number of points that had a scale.
    pub scaled_n: usize,
    /// Σ|A − F| / s₁ over the points that had a scale.
    pub scaled_abs_error: f64,
    /// Σ(A − F)² / s₂ over the points that had a scale.
    pub scaled_squared_error: f64,
}

impl MetricSums {
    /// Adds one (actual, forecast) point.
    #[inline]
    pub fn push(&mut self, actual: f64, forecast: f64) {
        let error = actual - forecast;
        let abs_error = error.abs();
        let denominator = actual.abs() + forecast.abs();
        self.n += 1;
        self.abs_error += abs_error;
        self.squared_error += error * error;
        if !(actual == 0.0 && forecast == 0.0) {
            self.smape_terms += 2.0 * abs_error / denominator;
        }
        self.abs_actual += actual.abs();
        self.error += error;
    }

    /// Adds one point scaled by its training window's `scale` (`None`: the
    /// point counts in every metric but MASE and RMSSE).
    #[inline]
    pub fn push_scaled(&mut self, actual: f64, forecast: f64, scale: Option<Scale>) {
        self.push(actual, forecast);
        if let Some(scale) = scale {
            let error = actual - forecast;
            self.scaled_n += 1;
            self.scaled_abs_error += error.abs() / scale.mae;
            self.scaled_squared_error += error * error / scale.mse;
        }
    }

    /// Sums over two equally long slices; a length mismatch is an error.
    pub fn from_slices(actual: &[f64], forecast: &[f64]) -> Result<Self, CoreError> {
        Self::from_slices_scaled(actual, forecast, None)
    }

    /// Like [`from_slices`](Self::from_slices), every point scaled by `scale`.
    pub fn from_slices_scaled(
        actual: &[f64],
        forecast: &[f64],
        scale: Option<Scale>,
    ) -> Result<Self, CoreError> {
        if actual.len() != forecast.len() {
            return Err(CoreError::input(format!(
                "{} actual values but {} predictions",
                actual.len(),
                forecast.len()
            )));
        }
        let mut sums = Self::default();
        for (&a, &f) in actual.iter().zip(forecast) {
            sums.push_scaled(a, f, scale);
        }
        Ok(sums)
    }

    /// Adds another set of sums (over disjoint points).
    pub fn merge(&mut self, other: &Self) {
        self.n += other.n;
        self.abs_error += other.abs_error;
        self.squared_error += other.squared_error;
        self.smape_terms += other.smape_terms;
        self.abs_actual += other.abs_actual;
        self.error += other.error;
        self.scaled_n += other.scaled_n;
        self.scaled_abs_error += other.scaled_abs_error;
        self.scaled_squared_error += other.scaled_squared_error;
    }

    /// The metrics these sums stand for.
    pub fn metrics(&self) -> Metrics {
        if self.n == 0 {
            return Metrics::NAN;
        }
        let n = self.n as f64;
        Metrics {
            mae: self.abs_error / n,
            rmse: (self.squared_error / n).sqrt(),
            smape: 100.0 * self.smape_terms / n,
            wape: if self.abs_actual == 0.0 {
                f64::INFINITY
            } else {
                100.0 * self.abs_error / self.abs_actual
            },
            bias: self.error / n,
            mase: self.scaled_mean(self.scaled_abs_error),
            rmsse: self.scaled_mean(self.scaled_squared_error).sqrt(),
        }
    }

    fn scaled_mean(&self, sum: f64) -> f64 {
        if self.scaled_n == 0 {
            f64::NAN
        } else {
            sum / self.scaled_n as f64
        }
    }
}

/// Every metric of `forecast` against `actual` (MASE and RMSSE NaN: no
/// training window is known).
pub fn compute(actual: &[f64], forecast: &[f64]) -> Result<Metrics, CoreError> {
    Ok(MetricSums::from_slices(actual, forecast)?.metrics())
}

/// Every metric of `forecast` against `actual`, MASE and RMSSE scaled by
/// the seasonal naive errors of `train` ([`SCALE_SEASON`]).
pub fn compute_scaled(
    train: &[f64],
    actual: &[f64],
    forecast: &[f64],
) -> Result<Metrics, CoreError> {
    let scale = Scale::seasonal_naive(train, SCALE_SEASON);
    Ok(MetricSums::from_slices_scaled(actual, forecast, scale)?.metrics())
}

/// Mean absolute error (NaN for empty or mismatched input).
pub fn mae(actual: &[f64], forecast: &[f64]) -> f64 {
    compute(actual, forecast).map_or(f64::NAN, |m| m.mae)
}

/// Root mean squared error (NaN for empty or mismatched input).
pub fn rmse(actual: &[f64], forecast: &[f64]) -> f64 {
    compute(actual, forecast).map_or(f64::NAN, |m| m.rmse)
}

/// sMAPE on the 0–200 scale (NaN for empty or mismatched input).
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    compute(actual, forecast).map_or(f64::NAN, |m| m.smape)
}

/// WAPE in percent; +∞ when every actual is zero (NaN for empty input).
pub fn wape(actual: &[f64], forecast: &[f64]) -> f64 {
    compute(actual, forecast).map_or(f64::NAN, |m| m.wape)
}

/// Mean of actual − forecast (NaN for empty or mismatched input).
pub fn bias(actual: &[f64], forecast: &[f64]) -> f64 {
    compute(actual, forecast).map_or(f64::NAN, |m| m.bias)
}

/// Mean of the values that are not NaN (NaN if there are none). Infinite
/// values are kept and propagate.
pub fn mean_skip_nan(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, count) = values
        .into_iter()
        .filter(|v| !v.is_nan())
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// Stability index = 100 · population std / |mean| over the non-NaN
/// values: NaN with fewer than two values, +∞ when the mean is zero.
pub fn stability_index(values: impl IntoIterator<Item = f64>) -> f64 {
    let kept: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
    if kept.len() < 2 {
        return f64::NAN;
    }
    let n = kept.len() as f64;
    let mean = kept.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return f64::INFINITY;
    }
    let variance = kept.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    100.0 * variance.sqrt() / mean.abs()
}

/// Per-metric mean over folds (NaN values skipped).
pub fn aggregate(folds: &[Metrics]) -> Metrics {
    per_metric(folds, mean_skip_nan)
}

/// Per-metric stability index over folds.
pub fn stability(folds: &[Metrics]) -> Metrics {
    per_metric(folds, stability_index)
}

fn per_metric(folds: &[Metrics], f: impl Fn(Vec<f64>) -> f64) -> Metrics {
    let mut out = [f64::NAN; 7];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = f(folds.iter().map(|m| m.to_array()[i]).collect());
    }
    Metrics::from_array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn hand_computed_example() {
        // A=[10,20,30], F=[12,18,33]: errors −2, 2, −3.
        let m = compute(&[10.0, 20.0, 30.0], &[12.0, 18.0, 33.0]).unwrap();
        assert!(close(m.mae, 7.0 / 3.0));
        // sqrt((4+4+9)/3)
        assert!(close(m.rmse, 2.380_476_14));
        // 100/3 · (4/22 + 4/38 + 6/63)
        assert!(close(m.smape, 12.743_981_17));
        assert!(close(m.wape, 100.0 * 7.0 / 60.0));
        assert!(close(m.bias, -1.0));
        assert_eq!(m.get("bias"), Some(m.bias));
        assert_eq!(m.get("nope"), None);
    }

    #[test]
    fn smape_zero_handling() {
        assert!(close(smape(&[100.0], &[80.0]), 22.222_222_2));
        assert!(close(smape(&[0.0], &[10.0]), 200.0));
        assert!(close(smape(&[10.0], &[0.0]), 200.0));
        assert_eq!(smape(&[0.0, 10.0, 0.0], &[0.0, 10.0, 0.0]), 0.0);
        // One both-zero point counts as 0 but still counts in the mean.
        assert!(close(smape(&[0.0, 0.0], &[0.0, 10.0]), 100.0));
    }

    #[test]
    fn wape_values_and_all_zero_actuals() {
        assert!(close(wape(&[100.0, 200.0], &[90.0, 220.0]), 10.0));
        assert!(close(
            wape(&[10.0, 100.0], &[0.0, 90.0]),
            100.0 * 20.0 / 110.0
        ));
        assert_eq!(wape(&[0.0, 0.0], &[1.0, 2.0]), f64::INFINITY);
        // Perfect forecast of an all-zero series is still +inf, not NaN.
        assert_eq!(wape(&[0.0, 0.0], &[0.0, 0.0]), f64::INFINITY);
        let m = compute(&[0.0, 0.0, 0.0], &[0.0, 0.0, 3.0]).unwrap();
        assert!(close(m.mae, 1.0));
        assert!(close(m.rmse, 3.0f64.sqrt()));
        assert!(close(m.smape, 200.0 / 3.0));
        assert!(m.wape.is_infinite());
        assert!(close(m.bias, -1.0));
    }

    #[test]
    fn bias_sign() {
        assert!(close(bias(&[100.0, 100.0], &[80.0, 80.0]), 20.0));
        assert!(close(bias(&[100.0, 100.0], &[120.0, 120.0]), -20.0));
    }

    #[test]
    fn empty_is_nan_and_mismatch_is_an_error() {
        let m = compute(&[], &[]).unwrap();
        assert!(m.to_array().iter().all(|v| v.is_nan()));
        assert!(compute(&[1.0], &[]).is_err());
        assert!(mae(&[1.0, 2.0], &[1.0]).is_nan());
    }

    #[test]
    fn sums_merge_like_concatenation() {
        let a = [3.0, 0.0, 7.0, 10.0, 0.0];
        let f = [2.0, 0.0, 9.0, 4.0, 1.0];
        let whole = MetricSums::from_slices(&a, &f).unwrap();
        let mut parts = MetricSums::from_slices(&a[..2], &f[..2]).unwrap();
        parts.merge(&MetricSums::from_slices(&a[2..], &f[2..]).unwrap());
        let (x, y) = (whole.metrics().to_array(), parts.metrics().to_array());
        for (x, y) in x.iter().zip(y) {
            // Without a scale MASE and RMSSE are NaN on both sides.
            assert!(close(*x, y) || (x.is_nan() && y.is_nan()));
        }
    }

    #[test]
    fn aggregation_and_stability() {
        assert!(close(mean_skip_nan([10.0, 20.0, 30.0]), 20.0));
        assert!(close(mean_skip_nan([10.0, f64::NAN, 30.0]), 20.0));
        assert!(mean_skip_nan([f64::NAN]).is_nan());
        assert_eq!(mean_skip_nan([1.0, f64::INFINITY]), f64::INFINITY);
        // pop std of 10,20,30 = sqrt(200/3) = 8.1649658; / 20 · 100
        assert!(close(stability_index([10.0, 20.0, 30.0]), 40.824_829_05));
        assert!(stability_index([10.0]).is_nan());
        assert!(stability_index([10.0, f64::NAN]).is_nan());
        assert_eq!(stability_index([-1.0, 1.0]), f64::INFINITY);
        let folds = [
            Metrics::from_array([10.0, 1.0, 1.0, 1.0, -2.0, 1.0, 2.0]),
            Metrics::from_array([20.0, 3.0, f64::NAN, 1.0, 2.0, 2.0, f64::NAN]),
            Metrics::from_array([30.0, 5.0, 3.0, 1.0, 3.0, 3.0, 4.0]),
        ];
        let agg = aggregate(&folds);
        assert!(close(agg.mae, 20.0));
        assert!(close(agg.rmse, 3.0));
        assert!(close(agg.smape, 2.0));
        assert!(close(agg.bias, 1.0));
        let st = stability(&folds);
        assert!(close(st.mae, 40.824_829_05));
        assert!(close(st.wape, 0.0));
        assert!(close(st.smape, 50.0));
        assert!(close(agg.mase, 2.0));
        assert!(close(agg.rmsse, 3.0));
        assert!(close(st.mase, 40.824_829_05));
    }

    #[test]
    fn seasonal_naive_scale() {
        // Season 2 over [1, 2, 4, 2, 1]: differences 3, 0, −3.
        let scale = Scale::seasonal_naive(&[1.0, 2.0, 4.0, 2.0, 1.0], 2).unwrap();
        assert!(close(scale.mae, 2.0));
        assert!(close(scale.mse, 6.0));
        // Season 1 is the naive scale.
        let scale = Scale::seasonal_naive(&[1.0, 3.0, 2.0], 1).unwrap();
        assert!(close(scale.mae, 1.5));
        assert!(close(scale.mse, 2.5));
        // Too short, flat or seasonal-flat windows have no scale.
        assert_eq!(Scale::seasonal_naive(&[1.0, 2.0], 2), None);
        assert_eq!(Scale::seasonal_naive(&[5.0; 20], 7), None);
        assert_eq!(Scale::seasonal_naive(&[1.0, 2.0, 1.0, 2.0, 1.0], 2), None);
        assert_eq!(Scale::seasonal_naive(&[1.0, f64::INFINITY, 3.0], 1), None);
    }

    #[test]
    fn mase_and_rmsse_by_hand() {
        // Training [1, 2, 4, 2, 1] with S = 2: s₁ = 2, s₂ = 6.
        let scale = Scale::seasonal_naive(&[1.0, 2.0, 4.0, 2.0, 1.0], 2);
        // Errors 2, −1, −4 → MAE 7/3, MSE 21/3 = 7.
        let sums =
            MetricSums::from_slices_scaled(&[3.0, 1.0, 0.0], &[1.0, 2.0, 4.0], scale).unwrap();
        let m = sums.metrics();
        assert!(close(m.mase, 7.0 / 6.0));
        assert!(close(m.rmsse, (7.0f64 / 6.0).sqrt()));
        assert!(close(m.mae, 7.0 / 3.0));
        // compute_scaled uses a weekly season: a week of zeros, then a week
        // of twos gives s₁ = 2, s₂ = 4.
        let train: Vec<f64> = (0..14).map(|i| if i < 7 { 0.0 } else { 2.0 }).collect();
        let s = Scale::seasonal_naive(&train, SCALE_SEASON).unwrap();
        assert!(close(s.mae, 2.0) && close(s.mse, 4.0), "{s:?}");
        let m = compute_scaled(&train, &[2.0, 2.0], &[0.0, 4.0]).unwrap();
        assert!(close(m.mase, 1.0));
        assert!(close(m.rmsse, 1.0));
        // Without a scale MASE and RMSSE are NaN, the rest is unchanged.
        let plain = compute(&[3.0, 1.0, 0.0], &[1.0, 2.0, 4.0]).unwrap();
        assert!(plain.mase.is_nan() && plain.rmsse.is_nan());
        assert!(close(plain.mae, 7.0 / 3.0));
    }

    #[test]
    fn scaled_sums_merge_as_point_weighted_means() {
        let a = MetricSums::from_slices_scaled(
            &[2.0, 4.0],
            &[0.0, 0.0],
            Some(Scale { mae: 2.0, mse: 4.0 }),
        )
        .unwrap();
        let b = MetricSums::from_slices_scaled(&[1.0], &[0.0], Some(Scale { mae: 1.0, mse: 1.0 }))
            .unwrap();
        let unscaled = MetricSums::from_slices(&[7.0], &[0.0]).unwrap();
        let mut all = a;
        all.merge(&b);
        all.merge(&unscaled);
        let m = all.metrics();
        // Scaled errors 1, 2, 1 → MASE 4/3; squared 1, 4, 1 → RMSSE sqrt 2.
        assert_eq!((all.n, all.scaled_n), (4, 3));
        assert!(close(m.mase, 4.0 / 3.0));
        assert!(close(m.rmsse, 2.0f64.sqrt()));
        assert!(close(m.mae, 14.0 / 4.0));
    }
}
