//! The seasonality test and classical decomposition statsforecast applies
//! before fitting a Theta model.

use serde::{Deserialize, Serialize};

/// How a seasonal component is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decomposition {
    /// y / seasonal (falls back to additive for data that are not all
    /// positive or a seasonal index below 0.01).
    Multiplicative,
    /// y − seasonal.
    Additive,
}

/// 95th percentile of the standard normal (the 90 % two-sided test).
const CRITICAL: f64 = 1.644_853_626_951_472_2;

/// Sample autocorrelations r₁…r_m (statsmodels' `acf`, biased estimator).
fn acf(y: &[f64], lags: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let denominator: f64 = centred.iter().map(|v| v * v).sum();
    (1..=lags)
        .map(|k| {
            centred
                .iter()
                .zip(&centred[k.min(n)..])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / denominator
        })
        .collect()
}

/// True when the lag-m autocorrelation is significant at 90 % (m ≥ 4 and
/// at least two seasons of data).
pub fn is_seasonal(y: &[f64], m: usize) -> bool {
    if m < 4 || y.len() < 2 * m {
        return false;
    }
    let r = acf(y, m);
    let stat =
        ((1.0 + 2.0 * r[..m - 1].iter().map(|v| v * v).sum::<f64>()) / y.len() as f64).sqrt();
    (r[m - 1].abs() / stat) > CRITICAL
}

/// Seasonal indices of a classical decomposition with period `m`
/// (statsmodels' `seasonal_decompose`): a centred moving average (2×m for
/// even m) as the trend, the mean detrended value per position of the
/// season, normalised to mean 1 (multiplicative) or 0 (additive). Returns
/// one index per position 0…m−1 of the season, position 0 being `y[0]`'s.
pub fn seasonal_indices(y: &[f64], m: usize, kind: Decomposition) -> Vec<f64> {
    let n = y.len();
    let weights: Vec<f64> = if m.is_multiple_of(2) {
        let mut w = vec![1.0 / m as f64; m + 1];
        w[0] = 0.5 / m as f64;
        w[m] = 0.5 / m as f64;
        w
    } else {
        vec![1.0 / m as f64; m]
    };
    let half = weights.len() / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n.saturating_sub(weights.len() - 1 - half) {
        let trend: f64 = weights
            .iter()
            .enumerate()
            .map(|(k, w)| w * y[t + k - half])
            .sum();
        let detrended = match kind {
            Decomposition::Multiplicative => y[t] / trend,
            Decomposition::Additive => y[t] - trend,
        };
        if detrended.is_finite() {
            sums[t % m] += detrended;
            counts[t % m] += 1;
        }
    }
    let mut indices: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| if *c == 0 { f64::NAN } else { s / *c as f64 })
        .collect();
    let mean = indices.iter().sum::<f64>() / m as f64;
    for v in &mut indices {
        match kind {
            Decomposition::Multiplicative => *v /= mean,
            Decomposition::Additive => *v -= mean,
        }
    }
    indices
}

/// The seasonal adjustment of a series: the indices and how they apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seasonality {
    /// Index per position of the season (position 0 = the first row).
    pub indices: Vec<f64>,
    /// How the indices apply.
    pub kind: Decomposition,
}

impl Seasonality {
    /// Tests `y` for seasonality of period `m` and, when seasonal, returns
    /// the adjustment (switching to additive as statsforecast does).
    pub fn detect(y: &[f64], m: usize, preferred: Decomposition) -> Option<Self> {
        if !is_seasonal(y, m) {
            return None;
        }
        let positive = y.iter().all(|v| *v > 0.0);
        let mut kind = if positive {
            preferred
        } else {
            Decomposition::Additive
        };
        let mut indices = seasonal_indices(y, m, kind);
        if kind == Decomposition::Multiplicative && indices.iter().any(|v| *v < 0.01) {
            kind = Decomposition::Additive;
            indices = seasonal_indices(y, m, kind);
        }
        indices
            .iter()
            .all(|v| v.is_finite())
            .then_some(Self { indices, kind })
    }

    /// Removes the seasonal component from `y`.
    pub fn adjust(&self, y: &[f64]) -> Vec<f64> {
        let m = self.indices.len();
        y.iter()
            .enumerate()
            .map(|(t, v)| match self.kind {
                Decomposition::Multiplicative => v / self.indices[t % m],
                Decomposition::Additive => v - self.indices[t % m],
            })
            .collect()
    }

    /// Puts the seasonal component back on a forecast that starts after a
    /// series of length `n`.
    pub fn restore(&self, forecast: &mut [f64], n: usize) {
        let m = self.indices.len();
        for (h, v) in forecast.iter_mut().enumerate() {
            let index = self.indices[(n + h) % m];
            match self.kind {
                Decomposition::Multiplicative => *v *= index,
                Decomposition::Additive => *v += index,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| [10.0, 12.0, 14.0, 11.0, 20.0, 30.0, 25.0][i % 7] + 0.01 * i as f64)
            .collect()
    }

    #[test]
    fn acf_by_hand() {
        // y = [1, 2, 3, 4]: centred −1.5, −0.5, 0.5, 1.5; Σ² = 5;
        // r₁ = (0.75 − 0.25 + 0.75) / 5 = 0.25.
        let r = acf(&[1.0, 2.0, 3.0, 4.0], 2);
        assert!((r[0] - 0.25).abs() < 1e-12);
        assert!((r[1] - (-0.75 - 0.75) / 5.0).abs() < 1e-12);
    }

    #[test]
    fn weekly_pattern_is_detected_and_removed() {
        let y = weekly(70);
        assert!(is_seasonal(&y, 7));
        assert!(!is_seasonal(&y, 1) && !is_seasonal(&y[..10], 7));
        let s = Seasonality::detect(&y, 7, Decomposition::Multiplicative).unwrap();
        assert_eq!(s.kind, Decomposition::Multiplicative);
        assert!((s.indices.iter().sum::<f64>() / 7.0 - 1.0).abs() < 1e-12);
        let adjusted = s.adjust(&y);
        let spread = adjusted.iter().fold(f64::NEG_INFINITY, |a, b| a.max(*b))
            - adjusted.iter().fold(f64::INFINITY, |a, b| a.min(*b));
        assert!(spread < 2.0, "{spread}");
        // Restoring a flat forecast reproduces the pattern's shape.
        let mut forecast = vec![1.0; 7];
        s.restore(&mut forecast, 70);
        assert!((forecast[0] - s.indices[0]).abs() < 1e-12);
        // Zeros force the additive form, whose indices average 0.
        let mut with_zero = y.clone();
        with_zero[3] = 0.0;
        let s = Seasonality::detect(&with_zero, 7, Decomposition::Multiplicative).unwrap();
        assert_eq!(s.kind, Decomposition::Additive);
        assert!(s.indices.iter().sum::<f64>().abs() < 1e-9);
    }

    #[test]
    fn even_period_uses_the_two_by_m_average() {
        let y: Vec<f64> = (0..24).map(|i| [1.0, 3.0, 5.0, 3.0][i % 4]).collect();
        let indices = seasonal_indices(&y, 4, Decomposition::Additive);
        // Trend is 3 everywhere: indices −2, 0, 2, 0.
        for (got, want) in indices.iter().zip([-2.0, 0.0, 2.0, 0.0]) {
            assert!((got - want).abs() < 1e-12, "{indices:?}");
        }
    }
}
