//! Forecast accuracy metrics: MAE, RMSE, sMAPE, WAPE and bias, computed in
//! one pass over contiguous slices, plus their aggregation across folds.
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
//!
//! Non-finite values are legal results; the server writes them as `null`.

use crate::CoreError;

/// Metric names in their canonical order.
pub const METRIC_NAMES: [&str; 5] = ["mae", "rmse", "smape", "wape", "bias"];

/// The five metrics of one evaluation.
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
}

impl Metrics {
    /// Every metric NaN (the value for an empty input).
    pub const NAN: Self = Self {
        mae: f64::NAN,
        rmse: f64::NAN,
        smape: f64::NAN,
        wape: f64::NAN,
        bias: f64::NAN,
    };

    /// The values in [`METRIC_NAMES`] order.
    pub fn to_array(self) -> [f64; 5] {
        [self.mae, self.rmse, self.smape, self.wape, self.bias]
    }

    /// Builds metrics from values in [`METRIC_NAMES`] order.
    pub fn from_array(values: [f64; 5]) -> Self {
        Self {
            mae: values[0],
            rmse: values[1],
            smape: values[2],
            wape: values[3],
            bias: values[4],
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

    /// Sums over two equally long slices; a length mismatch is an error.
    pub fn from_slices(actual: &[f64], forecast: &[f64]) -> Result<Self, CoreError> {
        if actual.len() != forecast.len() {
            return Err(CoreError::input(format!(
                "{} actual values but {} predictions",
                actual.len(),
                forecast.len()
            )));
        }
        let mut sums = Self::default();
        for (&a, &f) in actual.iter().zip(forecast) {
            sums.push(a, f);
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
        }
    }
}

/// All five metrics of `forecast` against `actual`.
pub fn compute(actual: &[f64], forecast: &[f64]) -> Result<Metrics, CoreError> {
    Ok(MetricSums::from_slices(actual, forecast)?.metrics())
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
    let mut out = [f64::NAN; 5];
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
            assert!(close(*x, y));
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
            Metrics::from_array([10.0, 1.0, 1.0, 1.0, -2.0]),
            Metrics::from_array([20.0, 3.0, f64::NAN, 1.0, 2.0]),
            Metrics::from_array([30.0, 5.0, 3.0, 1.0, 3.0]),
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
    }
}
