//! Portfolio WRMSSE, the accuracy measure of the M5 competition, at the
//! bottom (store × product) level of its hierarchy.
//!
//! For series i with training values y₁…yₙ (from its first non-zero value
//! on, as in the M5 guidelines) and a test window of h points:
//!
//! * RMSSEᵢ = sqrt( (1/h) Σ (Aₜ − Fₜ)² / ( 1/(n−1) Σₜ₌₂ⁿ (yₜ − yₜ₋₁)² ) )
//! * wᵢ = revenue of series i over the last [`WEIGHT_WINDOW`] training days
//!   (units × unit price), divided by the revenue of every series
//! * WRMSSE = Σ wᵢ · RMSSEᵢ
//!
//! A backtest has several folds: WRMSSE is computed per fold index over the
//! series that reached it and the folds' values are averaged
//! ([`WrmsseAccumulator`]). Series without a scale (fewer than two values
//! after the first sale, or a flat history) are left out of their fold.

use std::collections::BTreeMap;

/// Days of revenue that weight a series (M5: the last 28 days).
pub const WEIGHT_WINDOW: usize = 28;

/// The M5 scale of `train`: the mean squared one-step difference from the
/// first non-zero value on; `None` when it is zero or undefined.
pub fn m5_scale(train: &[f64]) -> Option<f64> {
    let start = train.iter().position(|v| *v != 0.0)?;
    let active = &train[start..];
    if active.len() < 2 {
        return None;
    }
    let sum: f64 = active.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
    let scale = sum / (active.len() - 1) as f64;
    (scale > 0.0 && scale.is_finite()).then_some(scale)
}

/// RMSSE of `forecast` against `actual` scaled by [`m5_scale`] of `train`;
/// `None` when there is no scale, no point, or the lengths differ.
pub fn rmsse(train: &[f64], actual: &[f64], forecast: &[f64]) -> Option<f64> {
    if actual.is_empty() || actual.len() != forecast.len() {
        return None;
    }
    let scale = m5_scale(train)?;
    let mse = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).powi(2))
        .sum::<f64>()
        / actual.len() as f64;
    Some((mse / scale).sqrt())
}

/// Revenue over the last `window` rows: Σ quantity × price. A missing (NaN)
/// price takes the mean of the window's known prices; when none is known
/// the series is weighted by units (price 1).
pub fn revenue(quantity: &[f64], price: &[f64], window: usize) -> f64 {
    let n = quantity.len().min(price.len());
    let (quantity, price) = (
        &quantity[n - window.min(n)..n],
        &price[n - window.min(n)..n],
    );
    let known: Vec<f64> = price.iter().copied().filter(|p| p.is_finite()).collect();
    let fallback = if known.is_empty() {
        1.0
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    quantity
        .iter()
        .zip(price)
        .map(|(q, p)| q * if p.is_finite() { *p } else { fallback })
        .sum()
}

/// Accumulates (fold, weight, RMSSE) triples of many series and yields the
/// mean over folds of each fold's weighted RMSSE.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrmsseAccumulator {
    /// Per fold index: (Σ w · RMSSE, Σ w).
    folds: BTreeMap<usize, (f64, f64)>,
}

impl WrmsseAccumulator {
    /// Adds one series' fold; non-finite or negative inputs are ignored.
    pub fn add(&mut self, fold_index: usize, weight: f64, rmsse: f64) {
        if weight.is_finite() && weight >= 0.0 && rmsse.is_finite() {
            let slot = self.folds.entry(fold_index).or_insert((0.0, 0.0));
            slot.0 += weight * rmsse;
            slot.1 += weight;
        }
    }

    /// Mean over folds of Σ wᵢ RMSSEᵢ / Σ wᵢ; NaN when no fold has weight.
    pub fn value(&self) -> f64 {
        let per_fold: Vec<f64> = self
            .folds
            .values()
            .filter(|(_, weight)| *weight > 0.0)
            .map(|(weighted, weight)| weighted / weight)
            .collect();
        if per_fold.is_empty() {
            f64::NAN
        } else {
            per_fold.iter().sum::<f64>() / per_fold.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn scale_starts_at_the_first_sale() {
        // Leading zeros are skipped: [2, 4, 1] → differences 2, −3 → 13/2.
        assert!(close(m5_scale(&[0.0, 0.0, 2.0, 4.0, 1.0]).unwrap(), 6.5));
        assert!(close(m5_scale(&[1.0, 2.0, 4.0]).unwrap(), 2.5));
        assert_eq!(m5_scale(&[0.0, 0.0, 3.0]), None);
        assert_eq!(m5_scale(&[0.0; 5]), None);
        assert_eq!(m5_scale(&[3.0; 5]), None);
        assert_eq!(m5_scale(&[]), None);
    }

    #[test]
    fn rmsse_by_hand() {
        // Scale 2.5; errors 1, −3 → MSE 5 → sqrt(2).
        let value = rmsse(&[1.0, 2.0, 4.0], &[5.0, 2.0], &[4.0, 5.0]).unwrap();
        assert!(close(value, 2.0f64.sqrt()));
        assert_eq!(rmsse(&[1.0, 2.0, 4.0], &[], &[]), None);
        assert_eq!(rmsse(&[1.0, 2.0, 4.0], &[1.0], &[1.0, 2.0]), None);
        assert_eq!(rmsse(&[0.0; 4], &[1.0], &[1.0]), None);
    }

    #[test]
    fn revenue_over_the_last_days() {
        let quantity = [100.0, 1.0, 2.0, 3.0];
        let price = [9.0, 2.0, 2.0, 4.0];
        // Only the last three rows: 2 + 4 + 12.
        assert!(close(revenue(&quantity, &price, 3), 18.0));
        // A window longer than the series takes all of it.
        assert!(close(revenue(&quantity, &price, 28), 918.0));
        // Unknown prices take the mean known price (3), none known → units.
        assert!(close(revenue(&[1.0, 1.0], &[f64::NAN, 3.0], 2), 6.0));
        assert!(close(revenue(&[1.0, 2.0], &[f64::NAN; 2], 2), 3.0));
        assert!(close(revenue(&[], &[], 28), 0.0));
    }

    #[test]
    fn weighted_mean_per_fold_then_mean_over_folds() {
        let mut acc = WrmsseAccumulator::default();
        assert!(acc.value().is_nan());
        // Fold 0: weights 3 and 1 → (3·1 + 1·2) / 4 = 1.25.
        acc.add(0, 3.0, 1.0);
        acc.add(0, 1.0, 2.0);
        // Fold 1: one series → 0.5; ignored entries do not count.
        acc.add(1, 10.0, 0.5);
        acc.add(1, f64::NAN, 100.0);
        acc.add(1, 5.0, f64::INFINITY);
        acc.add(1, -1.0, 100.0);
        // Fold 2: no weight at all → skipped.
        acc.add(2, 0.0, 7.0);
        assert!(close(acc.value(), (1.25 + 0.5) / 2.0));
    }
}
