//! Fitting one ARIMA model by conditional sum of squares (CSS, R's
//! `method = "CSS"`): the coefficients (and the constant) minimise
//! `½·ln(Σeₜ² / n_used)` by BFGS ([`crate::bfgs`], the optimiser R and
//! statsforecast use for it) on the differenced series scaled to unit
//! variance, starting from zero; the fitted model keeps what forecasting needs
//! (the last differenced values, residuals and observations) and gives its
//! forecast and the normal forecast-error half-widths from its ψ-weights.

use forecastlab_core::interval::normal_quantile;
use serde::{Deserialize, Serialize};

use crate::{
    arima::{self, Coefficients, Order},
    bfgs, ml,
};

/// A fitted ARIMA model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    /// Orders.
    pub order: Order,
    /// Estimated coefficients.
    pub coefficients: Coefficients,
    /// Innovation variance σ².
    pub sigma2: f64,
    /// Corrected AIC of the fit: from the CSS variance during the search
    /// (the plain AIC for series of 3 or fewer observations, as R does),
    /// from the exact likelihood after the maximum-likelihood refit;
    /// `None` for a fallback model.
    pub aicc: Option<f64>,
    /// The last differenced values minus the constant.
    pub x_tail: Vec<f64>,
    /// The residuals aligned with `x_tail`.
    pub e_tail: Vec<f64>,
    /// The last d + D·m observations (to undo the differencing).
    pub y_tail: Vec<f64>,
    /// The Kalman-filtered state after the last observation (of the
    /// differenced series minus the constant) when the model was refitted
    /// by maximum likelihood: the forecast then starts from it instead of
    /// `x_tail` and `e_tail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Vec<f64>>,
}

impl Fitted {
    /// Point forecasts of `horizon` steps after the training series.
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        let m = self.order.m;
        let constant = self.coefficients.constant.unwrap_or(0.0);
        let phi = self.coefficients.phi(m);
        let x = match &self.state {
            Some(state) => ml::forecast_state(state, &phi, horizon),
            None => arima::forecast_arma(
                &self.x_tail,
                &self.e_tail,
                &phi,
                &self.coefficients.theta(m),
                horizon,
            ),
        };
        let w: Vec<f64> = x.iter().map(|v| v + constant).collect();
        arima::integrate(&self.y_tail, &w, &arima::differencing(&self.order))
    }

    /// Half-widths of the normal `level` interval of steps `1..=horizon`:
    /// `z·σ·√(Σ_{j<h} ψⱼ²)`.
    pub fn half_widths(&self, horizon: usize, level: f64) -> Vec<f64> {
        let m = self.order.m;
        let psi = arima::psi_weights(
            &self.coefficients.phi(m),
            &self.coefficients.theta(m),
            &arima::differencing(&self.order),
            horizon,
        );
        let z = normal_quantile(0.5 + level / 2.0);
        let mut sum = 0.0;
        psi.iter()
            .map(|p| {
                sum += p * p;
                z * (self.sigma2 * sum).sqrt()
            })
            .collect()
    }
}

/// `y` with its differenced series `w = (1 − B)ᵈ(1 − Bᵐ)ᴰ y`.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// The observations.
    pub y: &'a [f64],
    /// The differenced series.
    pub w: Vec<f64>,
}

impl<'a> Series<'a> {
    /// Differences `y` for `order`.
    pub fn new(y: &'a [f64], order: &Order) -> Self {
        Self {
            y,
            w: arima::difference(y, order.d, order.sd, order.m),
        }
    }

    fn mean(&self) -> f64 {
        self.w.iter().sum::<f64>() / self.w.len().max(1) as f64
    }

    /// Builds the fitted model of `coefficients` (CSS residuals over the
    /// whole series) with innovation variance `sigma2`.
    fn finish(
        &self,
        order: Order,
        coefficients: Coefficients,
        sigma2: f64,
        aicc: Option<f64>,
    ) -> Fitted {
        let m = order.m;
        let constant = coefficients.constant.unwrap_or(0.0);
        let x: Vec<f64> = self.w.iter().map(|v| v - constant).collect();
        let e = arima::residuals(
            &x,
            &arima::sparse(&coefficients.phi(m)),
            &arima::sparse(&coefficients.theta(m)),
            order.ar_degree().min(x.len()),
        );
        let keep = order.ar_degree().max(order.ma_degree()).min(x.len());
        let lost = order.lost().min(self.y.len());
        Fitted {
            order,
            coefficients,
            sigma2,
            aicc,
            x_tail: x[x.len() - keep..].to_vec(),
            e_tail: e[e.len() - keep..].to_vec(),
            y_tail: self.y[self.y.len() - lost..].to_vec(),
            state: None,
        }
    }

    /// [`Series::finish`] with the filtered `state` the forecast starts from.
    pub(crate) fn finish_exact(
        &self,
        order: Order,
        coefficients: Coefficients,
        sigma2: f64,
        aicc: Option<f64>,
        state: Vec<f64>,
    ) -> Fitted {
        Fitted {
            state: Some(state),
            ..self.finish(order, coefficients, sigma2, aicc)
        }
    }

    /// The model without ARMA terms: white noise around the constant
    /// (`mean(w)` when `constant`, else 0) after the differencing.
    pub fn fallback(&self, order: Order, constant: bool) -> Fitted {
        let order = Order {
            p: 0,
            q: 0,
            sp: 0,
            sq: 0,
            ..order
        };
        let mu = if constant { self.mean() } else { 0.0 };
        let sigma2 =
            self.w.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / self.w.len().max(1) as f64;
        let coefficients = Coefficients::from_slice(&order, &[], constant.then_some(mu));
        self.finish(order, coefficients, sigma2, None)
    }

    /// Fits `order` (with a constant or not) by CSS; `None` when too few
    /// observations remain, the search fails or the fitted polynomials
    /// have a root within [`arima::ROOT_MARGIN`].
    pub fn fit_css(&self, order: Order, constant: bool) -> Option<Fitted> {
        let nstar = self.w.len();
        let start = order.ar_degree();
        let terms = order.arma_terms();
        let dimension = terms + usize::from(constant);
        // More residuals than coefficients, or the fit is exact.
        if nstar <= start + dimension + 1 {
            return None;
        }
        let used = (nstar - start) as f64;
        let mean = self.mean();
        let scale = (self.w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nstar as f64).sqrt();
        if scale.is_nan() || scale <= 0.0 {
            return None;
        }
        let z: Vec<f64> = self.w.iter().map(|v| v / scale).collect();
        let base = mean / scale;
        let m = order.m;
        let read = |x: &[f64]| {
            let mu = constant.then(|| base + x[terms]);
            Coefficients::from_slice(&order, &x[..terms], mu)
        };
        let sse = |coefficients: &Coefficients| {
            let mu = coefficients.constant.unwrap_or(0.0);
            let centred: Vec<f64> = z.iter().map(|v| v - mu).collect();
            let e = arima::residuals(
                &centred,
                &arima::sparse(&coefficients.phi(m)),
                &arima::sparse(&coefficients.theta(m)),
                start,
            );
            e.iter().map(|v| v * v).sum::<f64>()
        };
        let objective = |x: &[f64]| 0.5 * (sse(&read(x)) / used).ln();
        let best = bfgs::minimise(objective, &vec![0.0; dimension]);
        let scaled = read(&best);
        if !scaled.admissible(m) {
            return None;
        }
        let sigma2 = scale * scale * sse(&scaled) / used;
        if !(sigma2.is_finite() && sigma2 > 0.0) {
            return None;
        }
        let parameters = (dimension + 1) as f64;
        let n = nstar as f64;
        let aic = n * sigma2.ln() + 2.0 * parameters;
        let aicc = if self.y.len() <= 3 {
            aic
        } else {
            let denominator = n - parameters - 1.0;
            if denominator <= 0.0 {
                return None;
            }
            aic + 2.0 * parameters * (parameters + 1.0) / denominator
        };
        let coefficients = Coefficients {
            constant: scaled.constant.map(|mu| mu * scale),
            ..scaled
        };
        Some(self.finish(order, coefficients, sigma2, Some(aicc)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit_root::tests::noise;

    fn plain(p: usize, d: usize, q: usize) -> Order {
        Order {
            p,
            d,
            q,
            sp: 0,
            sd: 0,
            sq: 0,
            m: 1,
        }
    }

    #[test]
    fn recovers_an_ar1_coefficient() {
        let e = noise(600, 11);
        let mut y = vec![10.0];
        for t in 1..600 {
            y.push(10.0 + 0.7 * (y[t - 1] - 10.0) + e[t]);
        }
        let fitted = Series::new(&y, &plain(1, 0, 0))
            .fit_css(plain(1, 0, 0), true)
            .unwrap();
        assert!(
            (fitted.coefficients.ar[0] - 0.7).abs() < 0.06,
            "{:?}",
            fitted.coefficients
        );
        assert!((fitted.coefficients.constant.unwrap() - 10.0).abs() < 0.5);
        assert!((fitted.sigma2 - 1.0).abs() < 0.2, "{}", fitted.sigma2);
        // The forecast decays to the mean; the interval widens with the horizon.
        let path = fitted.forecast(60);
        assert!((path[59] - fitted.coefficients.constant.unwrap()).abs() < 1e-3);
        let widths = fitted.half_widths(10, 0.95);
        assert!((widths[0] - 1.96 * fitted.sigma2.sqrt()).abs() < 1e-3);
        assert!(widths.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn recovers_an_ma1_coefficient_after_a_difference() {
        let e = noise(800, 5);
        let mut y = vec![0.0];
        for t in 1..800 {
            y.push(y[t - 1] + e[t] - 0.4 * e[t - 1]);
        }
        let order = plain(0, 1, 1);
        let fitted = Series::new(&y, &order).fit_css(order, false).unwrap();
        assert!(
            (fitted.coefficients.ma[0] + 0.4).abs() < 0.07,
            "{:?}",
            fitted.coefficients
        );
        // A random-walk-type forecast is flat beyond the first step.
        let path = fitted.forecast(5);
        assert!((path[4] - path[1]).abs() < 1e-9);
        let widths = fitted.half_widths(20, 0.8);
        // ψ = 1, 0.6, 0.6, …: the 20-step width is √(1 + 19·0.36) ≈ 2.8 times the first.
        assert!(widths[19] > 2.5 * widths[0]);
    }

    #[test]
    fn non_invertible_or_short_fits_are_refused() {
        let y = [1.0, 2.0, 1.5];
        assert!(Series::new(&y, &plain(2, 0, 0))
            .fit_css(plain(2, 0, 0), true)
            .is_none());
        let fallback = Series::new(&y, &plain(0, 0, 0)).fallback(plain(2, 0, 1), true);
        assert_eq!(fallback.order, plain(0, 0, 0));
        assert_eq!(fallback.forecast(2), vec![1.5, 1.5]);
    }
}
