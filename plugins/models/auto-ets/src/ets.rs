//! One ETS model (Hyndman et al., *Forecasting with Exponential
//! Smoothing*, 2008): its components, smoothing parameters and states, the
//! one-pass recursion that gives the innovations and the likelihood, and
//! the point forecast from the final state.
//!
//! Seasonal states live in a ring indexed by time modulo the season
//! length: before step t, slot `t % m` holds s₍ₜ₋ₘ₎, the seasonal state
//! of the same position one season earlier.

use serde::{Deserialize, Serialize};

/// The error component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// y = ŷ + ε.
    Additive,
    /// y = ŷ (1 + ε).
    Multiplicative,
}

/// The trend component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrendKind {
    /// No trend.
    None,
    /// Additive trend (damped when the model's `phi` is below 1).
    Additive,
}

/// The seasonal component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeasonKind {
    /// No season.
    None,
    /// ŷ = level + trend + s.
    Additive,
    /// ŷ = (level + trend) · s.
    Multiplicative,
}

/// The components of one ETS model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Components {
    /// Error.
    pub error: ErrorKind,
    /// Trend.
    pub trend: TrendKind,
    /// Whether the trend is damped.
    pub damped: bool,
    /// Season.
    pub season: SeasonKind,
}

impl Components {
    /// The three-letter name (`A`, `M`, `N`; `Ad` for a damped trend),
    /// e.g. `"A,Ad,N"`.
    pub fn name(&self) -> String {
        let error = match self.error {
            ErrorKind::Additive => "A",
            ErrorKind::Multiplicative => "M",
        };
        let trend = match (self.trend, self.damped) {
            (TrendKind::None, _) => "N",
            (TrendKind::Additive, false) => "A",
            (TrendKind::Additive, true) => "Ad",
        };
        let season = match self.season {
            SeasonKind::None => "N",
            SeasonKind::Additive => "A",
            SeasonKind::Multiplicative => "M",
        };
        format!("{error},{trend},{season}")
    }

    /// Whether the model has a trend.
    pub fn has_trend(&self) -> bool {
        self.trend == TrendKind::Additive
    }

    /// Whether the model has a season.
    pub fn has_season(&self) -> bool {
        self.season != SeasonKind::None
    }
}

/// Smoothing parameters (β, γ and φ only where the components use them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Smoothing {
    /// Level smoothing α.
    pub alpha: f64,
    /// Trend smoothing β (0 without a trend).
    pub beta: f64,
    /// Seasonal smoothing γ (0 without a season).
    pub gamma: f64,
    /// Damping φ (1 for an undamped or absent trend).
    pub phi: f64,
}

/// The state vector: level, trend and the seasonal ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct States {
    /// Level.
    pub level: f64,
    /// Trend (0 without a trend).
    pub trend: f64,
    /// Seasonal ring (empty without a season).
    pub season: Vec<f64>,
}

/// What one pass over a series gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// `n·ln(Σε²)` (+ `2·Σ ln|ŷ|` for a multiplicative error): minus twice
    /// the log-likelihood up to a constant shared by every model; +∞ when
    /// the recursion leaves the admissible region.
    pub lik: f64,
    /// The states after the last observation.
    pub last: States,
}

impl Components {
    /// Runs the recursion over `y` from the initial `states` (the seasonal
    /// slot advances with a wrapping counter rather than `t % m`: this loop
    /// is the inner loop of every likelihood evaluation).
    pub fn pass(&self, smoothing: &Smoothing, initial: &States, y: &[f64]) -> Pass {
        let mut states = initial.clone();
        let mut sum_squares = 0.0;
        let mut sum_log_fitted = 0.0;
        let mut product = 1.0_f64;
        let m = states.season.len();
        let seasonal_model = self.has_season() && m > 0;
        let mut slot = 0;
        for &value in y {
            let base = states.level + smoothing.phi * states.trend;
            let seasonal = if seasonal_model {
                states.season[slot]
            } else {
                0.0
            };
            let fitted = match self.season {
                SeasonKind::None => base,
                SeasonKind::Additive => base + seasonal,
                SeasonKind::Multiplicative => base * seasonal,
            };
            // The error term of each state equation: ε (additive) or ŷ·ε
            // (multiplicative), both equal to y − ŷ. Computed directly (and
            // divisions replaced by reciprocals known early) to keep the
            // step-to-step dependency chain short.
            let absolute = value - fitted;
            let innovation = match self.error {
                ErrorKind::Additive => absolute,
                ErrorKind::Multiplicative => {
                    if fitted <= 0.0 {
                        return Pass::inadmissible(states);
                    }
                    // Σ ln ŷ as the logarithm of a running product, taken
                    // only when the product leaves [1e-100, 1e100]: one
                    // logarithm per many steps instead of one per step.
                    product *= fitted;
                    if !(1e-100..=1e100).contains(&product) {
                        sum_log_fitted += product.ln();
                        product = 1.0;
                    }
                    absolute / fitted
                }
            };
            sum_squares += innovation * innovation;
            let (level_step, seasonal_step) = match self.season {
                SeasonKind::None | SeasonKind::Additive => (absolute, absolute),
                SeasonKind::Multiplicative => {
                    if seasonal <= 0.0 || base <= 0.0 {
                        return Pass::inadmissible(states);
                    }
                    (absolute * seasonal.recip(), absolute / base)
                }
            };
            let previous_trend = states.trend;
            states.level = base + smoothing.alpha * level_step;
            if self.has_trend() {
                states.trend = smoothing.phi * previous_trend + smoothing.beta * level_step;
            }
            if seasonal_model {
                states.season[slot] = seasonal + smoothing.gamma * seasonal_step;
                slot += 1;
                if slot == m {
                    slot = 0;
                }
            }
            if !states.level.is_finite() {
                return Pass::inadmissible(states);
            }
        }
        sum_log_fitted += product.ln();
        let n = y.len() as f64;
        let lik = n * sum_squares.max(f64::MIN_POSITIVE).ln() + 2.0 * sum_log_fitted;
        Pass { lik, last: states }
    }

    /// Forecasts `horizon` steps from the states after a series of length
    /// `n`.
    pub fn forecast(
        &self,
        smoothing: &Smoothing,
        last: &States,
        n: usize,
        horizon: usize,
    ) -> Vec<f64> {
        let mut damping = 0.0;
        let mut phi_power = 1.0;
        (1..=horizon)
            .map(|h| {
                phi_power *= smoothing.phi;
                damping += phi_power;
                let base = last.level + damping * last.trend;
                match self.season {
                    SeasonKind::None => base,
                    SeasonKind::Additive => base + last.season[(n + h - 1) % last.season.len()],
                    SeasonKind::Multiplicative => {
                        base * last.season[(n + h - 1) % last.season.len()]
                    }
                }
            })
            .collect()
    }
}

impl Pass {
    fn inadmissible(last: States) -> Self {
        Self {
            lik: f64::INFINITY,
            last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SES: Components = Components {
        error: ErrorKind::Additive,
        trend: TrendKind::None,
        damped: false,
        season: SeasonKind::None,
    };

    #[test]
    fn simple_exponential_smoothing_by_hand() {
        let smoothing = Smoothing {
            alpha: 0.5,
            beta: 0.0,
            gamma: 0.0,
            phi: 1.0,
        };
        let initial = States {
            level: 10.0,
            trend: 0.0,
            season: Vec::new(),
        };
        // Levels: 10 → 11 (y 12) → 10.5 (y 10) → 12.25 (y 14).
        let pass = SES.pass(&smoothing, &initial, &[12.0, 10.0, 14.0]);
        assert_eq!(pass.last.level, 12.25);
        // Innovations 2, −1, 3.5: n·ln(Σε²) = 3·ln(17.25).
        assert!((pass.lik - 3.0 * 17.25_f64.ln()).abs() < 1e-12);
        assert_eq!(SES.forecast(&smoothing, &pass.last, 3, 2), vec![12.25; 2]);
    }

    #[test]
    fn damped_trend_and_additive_season_forecast() {
        let model = Components {
            error: ErrorKind::Additive,
            trend: TrendKind::Additive,
            damped: true,
            season: SeasonKind::Additive,
        };
        let smoothing = Smoothing {
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.1,
            phi: 0.9,
        };
        let last = States {
            level: 100.0,
            trend: 2.0,
            season: vec![1.0, -1.0],
        };
        // After n = 4 observations, step 1 is position 0, step 2 position 1.
        let path = model.forecast(&smoothing, &last, 4, 2);
        assert!((path[0] - (100.0 + 0.9 * 2.0 + 1.0)).abs() < 1e-12);
        assert!((path[1] - (100.0 + (0.9 + 0.81) * 2.0 - 1.0)).abs() < 1e-12);
        assert_eq!(model.name(), "A,Ad,A");
    }

    #[test]
    fn a_perfect_seasonal_pattern_has_no_innovations() {
        let model = Components {
            error: ErrorKind::Multiplicative,
            trend: TrendKind::None,
            damped: false,
            season: SeasonKind::Multiplicative,
        };
        let smoothing = Smoothing {
            alpha: 0.2,
            beta: 0.0,
            gamma: 0.1,
            phi: 1.0,
        };
        let initial = States {
            level: 10.0,
            trend: 0.0,
            season: vec![0.5, 1.5],
        };
        let y: Vec<f64> = (0..20)
            .map(|t| if t % 2 == 0 { 5.0 } else { 15.0 })
            .collect();
        let pass = model.pass(&smoothing, &initial, &y);
        assert_eq!(pass.last, initial);
        assert_eq!(
            model.forecast(&smoothing, &pass.last, 20, 2),
            vec![5.0, 15.0]
        );
        // A forecast that turns non-positive is inadmissible.
        let negative = States {
            level: -1.0,
            ..initial
        };
        assert_eq!(model.pass(&smoothing, &negative, &y).lik, f64::INFINITY);
    }
}
