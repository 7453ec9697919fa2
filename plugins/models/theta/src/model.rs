//! The Theta method in the state-space form of Fiorucci et al. (2016), as
//! statsforecast implements it: a level ℓ smoothed with α and the
//! intercept A and slope B of a linear trend, combined
//! into the one-step forecast
//!
//! ```text
//! μₜ = ℓₜ₋₁ + (1 − 1/θ)·(A·(1 − α)ᵗ + B·(1 − (1 − α)ᵗ⁺¹)/α)
//! ```
//!
//! The standard models (STM, θ = 2; OTM, θ optimised) fix A and B to the
//! least-squares line through the whole series. The initial level, α (and
//! θ) minimise the sum of squared one-step errors after the first three,
//! by a bounded Nelder–Mead search from (y₀/2, 0.5, 2).

use forecastlab_core::optimize::{nelder_mead, NelderMead};
use serde::{Deserialize, Serialize};

/// The state after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Smoothed level.
    pub level: f64,
    /// Trend intercept.
    pub a: f64,
    /// Trend slope.
    pub b: f64,
    /// One-step forecast of this observation.
    pub mu: f64,
}

/// The fitted parameters and the state after the last observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Level smoothing.
    pub alpha: f64,
    /// Theta coefficient.
    pub theta: f64,
    /// Initial smoothed level.
    pub initial_level: f64,
    /// Number of observations fitted.
    pub n: usize,
    /// State after the last observation.
    pub last: State,
}

/// The state after observation `i` (≥ 1) given the previous state; with
/// `observation = None` the observation is its own forecast μ.
fn step(previous: &State, i: usize, alpha: f64, theta: f64, observation: Option<f64>) -> State {
    let decay = (1.0 - alpha).powi(i as i32);
    let mu = previous.level
        + (1.0 - 1.0 / theta)
            * (previous.a * decay + previous.b * (1.0 - decay * (1.0 - alpha)) / alpha);
    let y = observation.unwrap_or(mu);
    State {
        level: alpha * y + (1.0 - alpha) * previous.level,
        a: previous.a,
        b: previous.b,
        mu,
    }
}

/// Least-squares intercept and slope of y against t = 1…n.
fn trend_line(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let weighted = y
        .iter()
        .enumerate()
        .map(|(t, v)| (t + 1) as f64 * v)
        .sum::<f64>()
        / n;
    let b = 6.0 * (2.0 * weighted - (1.0 + n) * mean) / (n * n - 1.0);
    (mean - (n + 1.0) * b / 2.0, b)
}

fn initial_state(y: &[f64], trend: (f64, f64), level0: f64, alpha: f64, theta: f64) -> State {
    let (a, b) = trend;
    State {
        level: alpha * y[0] + (1.0 - alpha) * level0,
        a,
        b,
        mu: level0 + (1.0 - 1.0 / theta) * (a + b),
    }
}

/// Runs the filter; returns the last state and Σ e² over errors 3… .
fn filter(y: &[f64], trend: (f64, f64), level0: f64, alpha: f64, theta: f64) -> (State, f64) {
    let mut state = initial_state(y, trend, level0, alpha, theta);
    let mut sse = 0.0;
    for (i, &value) in y.iter().enumerate().skip(1) {
        state = step(&state, i, alpha, theta, Some(value));
        if i >= 3 {
            sse += (value - state.mu).powi(2);
        }
    }
    (state, sse)
}

/// Fits the standard Theta model on `y` (at least 4 values): θ = 2 when
/// `optimise_theta` is false, else θ ∈ [1, 10¹⁰] is estimated too.
pub fn fit(y: &[f64], optimise_theta: bool) -> Fit {
    let trend = trend_line(y);
    let mean_abs = y.iter().map(|v| v.abs()).sum::<f64>() / y.len() as f64;
    let scale = if mean_abs == 0.0 { 1e-10 } else { mean_abs };
    let objective = |x: &[f64]| {
        let theta = if optimise_theta { x[2] } else { 2.0 };
        filter(y, trend, x[0], x[1], theta).1 / scale
    };
    let (x0, lower, upper): (Vec<f64>, Vec<f64>, Vec<f64>) = if optimise_theta {
        (
            vec![y[0] / 2.0, 0.5, 2.0],
            vec![-1e10, 0.1, 1.0],
            vec![1e10, 0.99, 1e10],
        )
    } else {
        (vec![y[0] / 2.0, 0.5], vec![-1e10, 0.1], vec![1e10, 0.99])
    };
    let best = nelder_mead(objective, &x0, &lower, &upper, NelderMead::default());
    let (level0, alpha) = (best.x[0], best.x[1]);
    let theta = if optimise_theta { best.x[2] } else { 2.0 };
    let (last, _) = filter(y, trend, level0, alpha, theta);
    Fit {
        alpha,
        theta,
        initial_level: level0,
        n: y.len(),
        last,
    }
}

/// The forecasts of steps 1…`horizon` after the fitted series.
pub fn forecast(fit: &Fit, horizon: usize) -> Vec<f64> {
    let mut state = fit.last;
    (0..horizon)
        .map(|h| {
            state = step(&state, fit.n + h, fit.alpha, fit.theta, None);
            state.mu
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_line_by_hand() {
        // y = 1 + 2t on t = 1…5.
        let y: Vec<f64> = (1..=5).map(|t| 1.0 + 2.0 * f64::from(t)).collect();
        let (a, b) = trend_line(&y);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
    }

    #[test]
    fn one_filter_step_by_hand() {
        // α = 0.5, θ = 2, A = 1, B = 2, ℓ₀ = 4 at i = 1:
        // μ = 4 + 0.5·(1·0.5 + 2·(1 − 0.25)/0.5) = 4 + 0.5·3.5 = 5.75.
        let previous = State {
            level: 4.0,
            a: 1.0,
            b: 2.0,
            mu: 0.0,
        };
        let next = step(&previous, 1, 0.5, 2.0, Some(7.0));
        assert!((next.mu - 5.75).abs() < 1e-12);
        assert!((next.level - 5.5).abs() < 1e-12);
    }

    #[test]
    fn linear_series_is_extrapolated_at_half_slope() {
        // On an exact line SES tracks the level and θ = 2 adds half the
        // slope per step (the Theta method's drift is b/2).
        let y: Vec<f64> = (0..200).map(|t| 10.0 + 0.5 * f64::from(t)).collect();
        let fitted = fit(&y, false);
        let path = forecast(&fitted, 10);
        let steps: Vec<f64> = path.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(steps.iter().all(|s| (s - 0.25).abs() < 0.01), "{steps:?}");
        assert!(path[0] > y[199] - 1.0 && path[0] < y[199] + 2.0, "{path:?}");
        let optimised = fit(&y, true);
        assert!(optimised.theta >= 1.0);
        let path = forecast(&optimised, 3);
        assert!(path.iter().all(|v| v.is_finite()));
    }
}
