//! Fitting ETS models: initial states from a classical decomposition and a
//! regression on the first deseasonalised values (as R's `ets` and
//! statsforecast do), smoothing parameters and initial states estimated
//! together by a bounded Nelder–Mead search on the likelihood, and the
//! automatic choice among candidate models by AICc.

use forecastlab_core::optimize::{nelder_mead, NelderMead};
use forecastlab_model_theta::decompose::{seasonal_indices, Decomposition};
use serde::{Deserialize, Serialize};

use crate::ets::{Components, ErrorKind, SeasonKind, Smoothing, States, TrendKind};

/// Smallest and largest α, β, γ (the "usual" region: β ≤ α, γ ≤ 1 − α).
const SMOOTHING_BOUNDS: (f64, f64) = (1e-4, 0.9999);
/// Smallest and largest damping φ.
const PHI_BOUNDS: (f64, f64) = (0.8, 0.98);
/// Simplex search settings (more iterations than the default: up to 12
/// coordinates with a weekly season).
const SEARCH: NelderMead = NelderMead {
    init_step: 0.05,
    zero_pert: 1e-4,
    max_iter: 2_000,
    tol_std: 1e-4,
};

/// A fitted ETS model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    /// The selected components.
    pub components: Components,
    /// Estimated smoothing parameters.
    pub smoothing: Smoothing,
    /// Estimated initial states.
    pub initial: States,
    /// States after the last training observation.
    pub last: States,
    /// Number of training observations.
    pub n: usize,
    /// Corrected Akaike information criterion of the fit.
    pub aicc: f64,
}

impl Fitted {
    /// Forecasts `horizon` steps after the training series.
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        self.components
            .forecast(&self.smoothing, &self.last, self.n, horizon)
    }

    /// Forecasts `horizon` steps after `prefix` with this model's
    /// parameters and initial states (rolling-origin errors for the
    /// prediction intervals, without re-estimating at every origin).
    pub fn forecast_after(&self, prefix: &[f64], horizon: usize) -> Option<Vec<f64>> {
        let pass = self.components.pass(&self.smoothing, &self.initial, prefix);
        pass.lik.is_finite().then(|| {
            self.components
                .forecast(&self.smoothing, &pass.last, prefix.len(), horizon)
        })
    }
}

/// Initial states of `components` on `y` with season length `m`, or
/// `None` when the data cannot support them.
fn initial_states(components: &Components, y: &[f64], m: usize) -> Option<States> {
    let n = y.len();
    let season = match components.season {
        SeasonKind::None => Vec::new(),
        SeasonKind::Additive | SeasonKind::Multiplicative => {
            let kind = if components.season == SeasonKind::Additive {
                Decomposition::Additive
            } else {
                Decomposition::Multiplicative
            };
            let head = &y[..n.min(3 * m)];
            let indices = seasonal_indices(head, m, kind);
            if indices.iter().any(|v| !v.is_finite()) {
                return None;
            }
            indices
        }
    };
    let adjusted: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(t, v)| match components.season {
            SeasonKind::None => *v,
            SeasonKind::Additive => v - season[t % m],
            SeasonKind::Multiplicative => v / season[t % m],
        })
        .collect();
    let head = &adjusted[..n.min(10.max(2 * m))];
    let k = head.len() as f64;
    let (level, trend) = if components.has_trend() {
        // Least squares of the head on t = 1…k: the intercept is the level
        // before the first observation.
        let mean_t = (k + 1.0) / 2.0;
        let mean_y = head.iter().sum::<f64>() / k;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, v) in head.iter().enumerate() {
            let dt = (i + 1) as f64 - mean_t;
            sxy += dt * (v - mean_y);
            sxx += dt * dt;
        }
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        (mean_y - slope * mean_t, slope)
    } else {
        (head.iter().sum::<f64>() / k, 0.0)
    };
    Some(States {
        level,
        trend,
        season,
    })
}

/// How the search vector maps onto parameters and initial states:
/// `[α, β?, γ?, φ?, level, trend?, s₀ … s₍ₘ₋₂₎?]`; the last seasonal state
/// makes the season sum to 0 (additive) or average 1 (multiplicative).
struct Layout {
    components: Components,
    m: usize,
}

impl Layout {
    fn start(&self, states: &States) -> Vec<f64> {
        let seasonal = self.components.has_season();
        let alpha = SMOOTHING_BOUNDS.0
            + 0.2 * (SMOOTHING_BOUNDS.1 - SMOOTHING_BOUNDS.0)
                / if seasonal { self.m as f64 } else { 1.0 };
        let mut x = vec![alpha];
        if self.components.has_trend() {
            x.push(0.1 * alpha);
        }
        if seasonal {
            x.push(0.05 * (1.0 - alpha));
        }
        if self.components.damped {
            x.push(PHI_BOUNDS.0 + 0.99 * (PHI_BOUNDS.1 - PHI_BOUNDS.0));
        }
        x.push(states.level);
        if self.components.has_trend() {
            x.push(states.trend);
        }
        if seasonal {
            x.extend_from_slice(&states.season[..self.m - 1]);
        }
        x
    }

    fn bounds(&self, len: usize) -> (Vec<f64>, Vec<f64>) {
        let mut lower = vec![f64::NEG_INFINITY; len];
        let mut upper = vec![f64::INFINITY; len];
        let mut smoothing = 1
            + usize::from(self.components.has_trend())
            + usize::from(self.components.has_season());
        for i in 0..smoothing {
            (lower[i], upper[i]) = SMOOTHING_BOUNDS;
        }
        if self.components.damped {
            (lower[smoothing], upper[smoothing]) = PHI_BOUNDS;
            smoothing += 1;
        }
        if self.components.season == SeasonKind::Multiplicative {
            for bound in &mut lower[smoothing..] {
                *bound = 1e-6;
            }
        }
        (lower, upper)
    }

    /// Reads a search vector; `None` outside the usual region.
    fn read(&self, x: &[f64]) -> Option<(Smoothing, States)> {
        let mut values = x.iter().copied();
        let mut next = || values.next().unwrap_or(0.0);
        let alpha = next();
        let beta = if self.components.has_trend() {
            next()
        } else {
            0.0
        };
        let gamma = if self.components.has_season() {
            next()
        } else {
            0.0
        };
        let phi = if self.components.damped { next() } else { 1.0 };
        if beta > alpha || gamma > 1.0 - alpha {
            return None;
        }
        let level = next();
        let trend = if self.components.has_trend() {
            next()
        } else {
            0.0
        };
        let season = if self.components.has_season() {
            let mut season: Vec<f64> = (0..self.m - 1).map(|_| next()).collect();
            let last = match self.components.season {
                SeasonKind::Multiplicative => self.m as f64 - season.iter().sum::<f64>(),
                _ => -season.iter().sum::<f64>(),
            };
            if self.components.season == SeasonKind::Multiplicative && last <= 0.0 {
                return None;
            }
            season.push(last);
            season
        } else {
            Vec::new()
        };
        Some((
            Smoothing {
                alpha,
                beta,
                gamma,
                phi,
            },
            States {
                level,
                trend,
                season,
            },
        ))
    }
}

/// Fits one model; `None` when the data cannot support it or the search
/// finds no admissible point.
pub fn fit_one(components: Components, y: &[f64], m: usize) -> Option<Fitted> {
    let n = y.len();
    if components.has_season() && (m < 2 || n < 2 * m) {
        return None;
    }
    let start_states = initial_states(&components, y, m)?;
    let layout = Layout { components, m };
    let x0 = layout.start(&start_states);
    let parameters = x0.len() + 1; // and the innovation variance
    if n <= parameters + 4 {
        return None;
    }
    let (lower, upper) = layout.bounds(x0.len());
    let objective = |x: &[f64]| match layout.read(x) {
        Some((smoothing, initial)) => components.pass(&smoothing, &initial, y).lik,
        None => f64::INFINITY,
    };
    let best = nelder_mead(objective, &x0, &lower, &upper, SEARCH);
    let (smoothing, initial) = layout.read(&best.x)?;
    let pass = components.pass(&smoothing, &initial, y);
    if !pass.lik.is_finite() {
        return None;
    }
    let k = parameters as f64;
    let aic = pass.lik + 2.0 * k;
    let aicc = aic + 2.0 * k * (k + 1.0) / (n as f64 - k - 1.0);
    Some(Fitted {
        components,
        smoothing,
        initial,
        last: pass.last,
        n,
        aicc,
    })
}

/// Fits every candidate and keeps the one with the smallest AICc.
pub fn select(candidates: &[Components], y: &[f64], m: usize) -> Option<Fitted> {
    candidates
        .iter()
        .filter_map(|components| fit_one(*components, y, m))
        .filter(|fitted| fitted.aicc.is_finite())
        .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
}

/// The candidate models of a search over the given component choices:
/// multiplicative errors and seasons only for strictly positive data, no
/// additive error with a multiplicative season (R's restricted set), and
/// seasons only with a season length above 1.
pub fn candidates(
    errors: &[ErrorKind],
    trends: &[(TrendKind, bool)],
    seasons: &[SeasonKind],
    m: usize,
    positive: bool,
) -> Vec<Components> {
    let mut out = Vec::new();
    for &error in errors {
        for &(trend, damped) in trends {
            for &season in seasons {
                let multiplicative =
                    error == ErrorKind::Multiplicative || season == SeasonKind::Multiplicative;
                if (multiplicative && !positive)
                    || (error == ErrorKind::Additive && season == SeasonKind::Multiplicative)
                    || (season != SeasonKind::None && m < 2)
                {
                    continue;
                }
                out.push(Components {
                    error,
                    trend,
                    damped,
                    season,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn additive(trend: TrendKind, damped: bool, season: SeasonKind) -> Components {
        Components {
            error: ErrorKind::Additive,
            trend,
            damped,
            season,
        }
    }

    /// A weekly pattern on a rising line with a little deterministic noise.
    fn weekly_trend(n: usize) -> Vec<f64> {
        (0..n)
            .map(|t| {
                let pattern = [0.0, 4.0, 6.0, 5.0, 3.0, -8.0, -10.0][t % 7];
                let noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.4, -0.3][t % 9];
                50.0 + 0.5 * t as f64 + pattern + noise
            })
            .collect()
    }

    #[test]
    fn initial_states_of_a_clean_line() {
        let y: Vec<f64> = (0..30).map(|t| 3.0 + 2.0 * (t + 1) as f64).collect();
        let states = initial_states(
            &additive(TrendKind::Additive, false, SeasonKind::None),
            &y,
            1,
        )
        .unwrap();
        assert!((states.level - 3.0).abs() < 1e-9);
        assert!((states.trend - 2.0).abs() < 1e-9);
    }

    #[test]
    fn selects_a_seasonal_trend_model_and_forecasts_it() {
        let y = weekly_trend(140);
        let all = candidates(
            &[ErrorKind::Additive, ErrorKind::Multiplicative],
            &[
                (TrendKind::None, false),
                (TrendKind::Additive, false),
                (TrendKind::Additive, true),
            ],
            &[
                SeasonKind::None,
                SeasonKind::Additive,
                SeasonKind::Multiplicative,
            ],
            7,
            true,
        );
        assert_eq!(all.len(), 15);
        let fitted = select(&all, &y, 7).unwrap();
        assert!(fitted.components.has_season() && fitted.components.has_trend());
        let truth = weekly_trend(154);
        let path = fitted.forecast(14);
        for (h, (forecast, actual)) in path.iter().zip(&truth[140..]).enumerate() {
            assert!(
                (forecast - actual).abs() < 2.0,
                "step {h}: {forecast} vs {actual}"
            );
        }
        // Re-running the recursion over the whole series from the fitted
        // initial states reproduces the fitted forecast.
        assert_eq!(fitted.forecast_after(&y, 14).unwrap(), path);
    }

    #[test]
    fn data_with_zeros_only_get_additive_models() {
        let all = candidates(
            &[ErrorKind::Additive, ErrorKind::Multiplicative],
            &[(TrendKind::None, false)],
            &[
                SeasonKind::None,
                SeasonKind::Additive,
                SeasonKind::Multiplicative,
            ],
            7,
            false,
        );
        assert_eq!(
            all,
            vec![
                additive(TrendKind::None, false, SeasonKind::None),
                additive(TrendKind::None, false, SeasonKind::Additive)
            ]
        );
        // Too short for a season, or for the parameters at all.
        let short = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert!(fit_one(
            additive(TrendKind::None, false, SeasonKind::Additive),
            &short,
            7
        )
        .is_none());
        assert!(fit_one(
            additive(TrendKind::Additive, true, SeasonKind::None),
            &short[..6],
            1
        )
        .is_none());
    }

    #[test]
    fn a_level_series_prefers_simple_smoothing() {
        let y: Vec<f64> = (0..120)
            .map(|t| 20.0 + [1.0, -1.5, 0.5, 2.0, -2.0, 0.0, -0.5, 1.5, -1.0][t % 9])
            .collect();
        let all = candidates(
            &[ErrorKind::Additive],
            &[(TrendKind::None, false), (TrendKind::Additive, false)],
            &[SeasonKind::None],
            1,
            true,
        );
        let fitted = select(&all, &y, 1).unwrap();
        assert_eq!(fitted.components.name(), "A,N,N");
        assert!(fitted.forecast(3).iter().all(|v| (v - 20.0).abs() < 1.5));
    }
}
