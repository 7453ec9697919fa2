//! Automatic order selection (Hyndman & Khandakar 2008, R's `auto.arima`
//! with `stepwise = TRUE`): the seasonal difference from the seasonal
//! strength, the plain differences from KPSS tests, then a stepwise walk
//! over (p, q)(P, Q) and the constant from four starting models, moving to
//! the first neighbour with a smaller AICc until none improves; the chosen
//! model is then refitted by exact maximum likelihood (`CSS-ML`).

use std::collections::HashMap;

use crate::{
    arima::Order,
    fit::{Fitted, Series},
    unit_root::{is_constant, ndiffs, nsdiffs},
};

/// Most models a stepwise search fits (R's `nmodels`).
pub const MAX_MODELS: usize = 94;

/// Limits of the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Season length m (1 = none).
    pub m: usize,
    /// Largest p.
    pub max_p: usize,
    /// Largest q.
    pub max_q: usize,
    /// Largest P.
    pub max_sp: usize,
    /// Largest Q.
    pub max_sq: usize,
    /// Largest d.
    pub max_d: usize,
    /// Largest D.
    pub max_sd: usize,
    /// Whether a drift may be fitted when d + D = 1.
    pub allow_drift: bool,
    /// Whether a mean may be fitted when d + D = 0.
    pub allow_mean: bool,
}

/// One point of the search: (p, q, P, Q, constant).
type Key = (usize, usize, usize, usize, bool);

/// Differencing orders for `y`: D by seasonal strength (only with at
/// least two full seasons), then d by KPSS tests on the seasonally
/// differenced series.
pub fn differences(y: &[f64], limits: &Limits) -> (usize, usize) {
    let sd = if limits.m > 1 && limits.max_sd > 0 {
        nsdiffs(y, limits.m)
    } else {
        0
    };
    let seasonal = crate::arima::difference(y, 0, sd, limits.m);
    (ndiffs(&seasonal, limits.max_d), sd)
}

/// Selects and fits an ARIMA model for `y` (at least 2 observations).
/// A series that is constant after differencing gets the model without
/// ARMA terms; so does one on which no candidate fits.
pub fn auto_arima(y: &[f64], limits: &Limits) -> Fitted {
    let (d, sd) = differences(y, limits);
    let m = limits.m.max(1);
    let base = Order {
        p: 0,
        d,
        q: 0,
        sp: 0,
        sd,
        sq: 0,
        m,
    };
    let series = Series::new(y, &base);
    let constant = (d + sd == 0 && limits.allow_mean) || (d + sd == 1 && limits.allow_drift);
    if series.w.len() < 3 || is_constant(&series.w) {
        return series.fallback(
            base,
            !series.w.is_empty() && (constant || is_constant(&series.w)),
        );
    }
    // Shorter series allow fewer terms (R: at most a third of the length).
    let nstar = series.w.len();
    let max_p = limits.max_p.min(nstar / 3);
    let max_q = limits.max_q.min(nstar / 3);
    let seasonal = m > 1;
    let max_sp = if seasonal {
        limits.max_sp.min(nstar / 3 / m)
    } else {
        0
    };
    let max_sq = if seasonal {
        limits.max_sq.min(nstar / 3 / m)
    } else {
        0
    };
    let mut search = Stepwise {
        series: &series,
        base,
        fits: HashMap::new(),
        best: None,
    };
    search.try_key((
        max_p.min(2),
        max_q.min(2),
        max_sp.min(1),
        max_sq.min(1),
        constant,
    ));
    search.try_key((0, 0, 0, 0, constant));
    if max_p > 0 || max_sp > 0 {
        search.try_key((
            usize::from(max_p > 0),
            0,
            usize::from(max_sp > 0),
            0,
            constant,
        ));
    }
    if max_q > 0 || max_sq > 0 {
        search.try_key((
            0,
            usize::from(max_q > 0),
            0,
            usize::from(max_sq > 0),
            constant,
        ));
    }
    if constant {
        search.try_key((0, 0, 0, 0, false));
    }
    let may_toggle = constant;
    'walk: while search.fits.len() < MAX_MODELS {
        let Some((p, q, sp, sq, c)) = search.best.as_ref().map(|(key, _)| *key) else {
            break;
        };
        let mut neighbours: Vec<Key> = Vec::new();
        for (dsp, dsq) in [
            (-1, 0),
            (0, -1),
            (1, 0),
            (0, 1),
            (-1, -1),
            (-1, 1),
            (1, -1),
            (1, 1),
        ] {
            if let (Some(a), Some(b)) = (step(sp, dsp, max_sp), step(sq, dsq, max_sq)) {
                neighbours.push((p, q, a, b, c));
            }
        }
        for (dp, dq) in [
            (-1, 0),
            (0, -1),
            (1, 0),
            (0, 1),
            (-1, -1),
            (-1, 1),
            (1, -1),
            (1, 1),
        ] {
            if let (Some(a), Some(b)) = (step(p, dp, max_p), step(q, dq, max_q)) {
                neighbours.push((a, b, sp, sq, c));
            }
        }
        if may_toggle {
            neighbours.push((p, q, sp, sq, !c));
        }
        for key in neighbours {
            if search.fits.len() >= MAX_MODELS {
                break 'walk;
            }
            if search.try_key(key) {
                continue 'walk;
            }
        }
        break;
    }
    match search.best {
        // As R and statsforecast do after a CSS search: the chosen order
        // refitted by exact maximum likelihood, unless that fails.
        Some((_, css)) => series.refit_ml(&css).unwrap_or(css),
        None => series.fallback(base, constant),
    }
}

/// `value + delta` when it stays within `0..=max`.
fn step(value: usize, delta: i32, max: usize) -> Option<usize> {
    let next = match delta {
        -1 => value.checked_sub(1)?,
        1 => value + 1,
        _ => value,
    };
    (next <= max).then_some(next)
}

/// The state of a stepwise search.
struct Stepwise<'a, 'y> {
    series: &'a Series<'y>,
    base: Order,
    fits: HashMap<Key, f64>,
    best: Option<(Key, Fitted)>,
}

impl Stepwise<'_, '_> {
    /// Fits `key` unless already tried; whether it became the best.
    fn try_key(&mut self, key: Key) -> bool {
        if self.fits.contains_key(&key) {
            return false;
        }
        let (p, q, sp, sq, constant) = key;
        let order = Order {
            p,
            q,
            sp,
            sq,
            ..self.base
        };
        let fitted = self.series.fit_css(order, constant);
        let aicc = fitted
            .as_ref()
            .and_then(|f| f.aicc)
            .unwrap_or(f64::INFINITY);
        self.fits.insert(key, aicc);
        let better = aicc.is_finite()
            && self
                .best
                .as_ref()
                .is_none_or(|(_, best)| best.aicc.is_none_or(|b| aicc < b));
        if better {
            self.best = fitted.map(|f| (key, f));
        }
        better
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit_root::tests::noise;

    fn limits(m: usize) -> Limits {
        Limits {
            m,
            max_p: 5,
            max_q: 5,
            max_sp: 2,
            max_sq: 2,
            max_d: 2,
            max_sd: 1,
            allow_drift: true,
            allow_mean: true,
        }
    }

    #[test]
    fn a_random_walk_is_differenced_a_stationary_ar_is_not() {
        let e = noise(400, 21);
        let walk: Vec<f64> = e
            .iter()
            .scan(100.0, |level, v| {
                *level += v;
                Some(*level)
            })
            .collect();
        let fitted = auto_arima(&walk, &limits(1));
        assert_eq!((fitted.order.d, fitted.order.sd), (1, 0));
        let mut ar = vec![5.0];
        for t in 1..400 {
            ar.push(5.0 + 0.5 * (ar[t - 1] - 5.0) + e[t]);
        }
        let fitted = auto_arima(&ar, &limits(1));
        assert_eq!(fitted.order.d, 0);
        assert!(
            fitted.order.p >= 1 && fitted.coefficients.constant.is_some(),
            "{:?}",
            fitted.order
        );
        assert!(fitted.aicc.is_some_and(f64::is_finite));
    }

    #[test]
    fn a_weekly_series_gets_a_seasonal_model() {
        let e = noise(280, 9);
        let y: Vec<f64> = (0..280)
            .map(|t| 50.0 + [0.0, 4.0, 6.0, 5.0, 3.0, -8.0, -10.0][t % 7] + e[t])
            .collect();
        let fitted = auto_arima(&y, &limits(7));
        assert_eq!(fitted.order.sd, 1, "{}", fitted.order.name());
        let path = fitted.forecast(14);
        for (h, value) in path.iter().enumerate() {
            let truth = 50.0 + [0.0, 4.0, 6.0, 5.0, 3.0, -8.0, -10.0][(280 + h) % 7];
            assert!((value - truth).abs() < 2.5, "step {h}: {value} vs {truth}");
        }
        let widths = fitted.half_widths(14, 0.9);
        assert!(widths.windows(2).all(|w| w[1] >= w[0] - 1e-12));
        assert!(widths[13] > widths[0]);
    }

    #[test]
    fn constant_and_tiny_series_fall_back() {
        let fitted = auto_arima(&[4.0; 30], &limits(7));
        assert_eq!(fitted.forecast(3), vec![4.0; 3]);
        assert!(fitted.half_widths(3, 0.9).iter().all(|w| *w == 0.0));
        // Three values: AIC (not AICc) keeps the mean.
        let fitted = auto_arima(&[10.0, 14.0, 13.0], &limits(7));
        let path = fitted.forecast(2);
        assert!(path.iter().all(|v| (*v - 12.0).abs() < 2.5), "{path:?}");
        let fitted = auto_arima(&[1.0, 3.0], &limits(1));
        assert!(fitted.forecast(2).iter().all(|v| v.is_finite()));
    }
}
