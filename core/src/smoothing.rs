//! Simple exponential smoothing and the demand decompositions shared by the
//! intermittent-demand models (Croston, SBA, TSB, ADIDA, IMAPA), following
//! the definitions of Nixtla's statsforecast so that forecasts agree with
//! it.

/// One-step-ahead SES forecast after `x` with smoothing `alpha`, and the
/// mean squared one-step error of the fit.
///
/// The level starts at `x[0]`; for i ≥ 1 the forecast of `x[i]` is
/// `ℓ = α·x[i−1] + (1 − α)·ℓ`; the returned forecast is `α·x[n−1] + (1 − α)·ℓ`.
/// The MSE divides the squared errors of `x[1..]` by `n`. An empty `x`
/// gives `(NaN, NaN)`.
pub fn ses_forecast_mse(x: &[f64], alpha: f64) -> (f64, f64) {
    let Some((&first, _)) = x.split_first() else {
        return (f64::NAN, f64::NAN);
    };
    let mut smoothed = first;
    let mut squared = 0.0;
    for window in x.windows(2) {
        smoothed = alpha * window[0] + (1.0 - alpha) * smoothed;
        let error = window[1] - smoothed;
        squared += error * error;
    }
    let last = x[x.len() - 1];
    (
        alpha * last + (1.0 - alpha) * smoothed,
        squared / x.len() as f64,
    )
}

/// One-step-ahead SES forecast (see [`ses_forecast_mse`]).
pub fn ses_forecast(x: &[f64], alpha: f64) -> f64 {
    ses_forecast_mse(x, alpha).0
}

/// The smoothing in `[lower, upper]` that minimises the SES one-step MSE
/// of `x` (golden-section search refined from the best of a coarse grid).
pub fn optimal_alpha(x: &[f64], lower: f64, upper: f64) -> f64 {
    let mse = |alpha: f64| ses_forecast_mse(x, alpha).1;
    minimize_scalar(mse, lower, upper)
}

/// SES forecast with the MSE-optimal smoothing in [0.1, 0.3] (statsforecast's
/// `_optimized_ses_forecast`).
pub fn optimized_ses_forecast(x: &[f64]) -> f64 {
    ses_forecast(x, optimal_alpha(x, 0.1, 0.3))
}

/// Minimises `f` on `[lower, upper]`: a 21-point grid picks the bracket
/// of the best point, golden-section search refines it to 1e-8.
pub fn minimize_scalar(f: impl Fn(f64) -> f64, lower: f64, upper: f64) -> f64 {
    const GRID: usize = 20;
    let step = (upper - lower) / GRID as f64;
    let value = |x: f64| {
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let best = (0..=GRID)
        .map(|i| (i, value(lower + step * i as f64)))
        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
        .0;
    let mut a = lower + step * best.saturating_sub(1) as f64;
    let mut b = (lower + step * (best + 1) as f64).min(upper);
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - ratio * (b - a);
    let mut d = a + ratio * (b - a);
    let (mut fc, mut fd) = (value(c), value(d));
    while b - a > 1e-8 {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - ratio * (b - a);
            fc = value(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + ratio * (b - a);
            fd = value(d);
        }
    }
    let candidate = (a + b) / 2.0;
    // Never worse than the best grid point.
    let grid_best = lower + step * best as f64;
    if value(candidate) <= value(grid_best) {
        candidate
    } else {
        grid_best
    }
}

/// The positive values of `y`, in order (the demand sizes).
pub fn demand(y: &[f64]) -> Vec<f64> {
    y.iter().copied().filter(|v| *v > 0.0).collect()
}

/// The intervals between demands: for the non-zero positions p₁ < p₂ < …
/// (1-based), `[p₁, p₂ − p₁, …]`.
pub fn intervals(y: &[f64]) -> Vec<f64> {
    let mut previous = 0;
    y.iter()
        .enumerate()
        .filter(|(_, v)| **v != 0.0)
        .map(|(i, _)| {
            let interval = i + 1 - previous;
            previous = i + 1;
            interval as f64
        })
        .collect()
}

/// 1.0 for periods with demand, 0.0 otherwise.
pub fn occurrence(y: &[f64]) -> Vec<f64> {
    y.iter().map(|v| f64::from(u8::from(*v != 0.0))).collect()
}

/// Sums of consecutive non-overlapping blocks of `level` values, after
/// dropping the first `len % level` values (statsforecast's temporal
/// aggregation for ADIDA/IMAPA).
pub fn block_sums(y: &[f64], level: usize) -> Vec<f64> {
    let level = level.max(1);
    y[y.len() % level..]
        .chunks_exact(level)
        .map(|chunk| chunk.iter().sum())
        .collect()
}

/// The mean interval between demands rounded half to even (Python's
/// `round`), at least 1; `None` when `y` has no demand.
pub fn aggregation_level(y: &[f64]) -> Option<usize> {
    let intervals = intervals(y);
    if intervals.is_empty() {
        return None;
    }
    let mean = intervals.iter().sum::<f64>() / intervals.len() as f64;
    Some((mean.round_ties_even() as usize).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn ses_by_hand() {
        // x = [2, 4, 6], α = 0.5: ℓ₁ = 2 (error 2), ℓ₂ = 3 (error 3),
        // forecast 0.5·6 + 0.5·3 = 4.5, MSE (4 + 9) / 3.
        let (forecast, mse) = ses_forecast_mse(&[2.0, 4.0, 6.0], 0.5);
        assert!(close(forecast, 4.5));
        assert!(close(mse, 13.0 / 3.0));
        assert!(close(ses_forecast(&[7.0], 0.3), 7.0));
        assert!(ses_forecast(&[], 0.3).is_nan());
    }

    #[test]
    fn decompositions() {
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 1.0, 0.0];
        assert_eq!(demand(&y), vec![3.0, 5.0, 1.0]);
        assert_eq!(intervals(&y), vec![2.0, 3.0, 1.0]);
        assert_eq!(occurrence(&y), vec![0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        // 7 % 3 = 1 value dropped: [3,0,0], [5,1,0].
        assert_eq!(block_sums(&y, 3), vec![3.0, 6.0]);
        assert_eq!(block_sums(&y, 1), y.to_vec());
        // Mean interval 2 → level 2; 2.5 rounds to 2, 3.5 to 4.
        assert_eq!(aggregation_level(&y), Some(2));
        assert_eq!(aggregation_level(&[0.0, 1.0, 0.0, 0.0, 1.0]), Some(2));
        assert_eq!(
            aggregation_level(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]),
            Some(4)
        );
        assert_eq!(aggregation_level(&[0.0; 4]), None);
    }

    #[test]
    fn golden_section_finds_the_minimum() {
        let x = minimize_scalar(|a| (a - 0.237).powi(2), 0.1, 0.3);
        assert!((x - 0.237).abs() < 1e-6, "{x}");
        // A boundary minimum stays on the boundary.
        let x = minimize_scalar(|a| a, 0.1, 0.3);
        assert!((x - 0.1).abs() < 1e-6, "{x}");
        let x = minimize_scalar(|a| -a, 0.1, 0.3);
        assert!((x - 0.3).abs() < 1e-6, "{x}");
        // The optimal SES smoothing beats both ends of its range.
        let series: Vec<f64> = (0..60).map(|i| f64::from((i * 7) % 11)).collect();
        let alpha = optimal_alpha(&series, 0.1, 0.3);
        let mse = |a| ses_forecast_mse(&series, a).1;
        assert!(mse(alpha) <= mse(0.1) + 1e-12 && mse(alpha) <= mse(0.3) + 1e-12);
    }
}
