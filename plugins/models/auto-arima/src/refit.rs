//! The CSS-ML refit of `auto_arima`'s chosen model (R's `method =
//! "CSS-ML"`): the conditional-sum-of-squares estimates are the start of a
//! Nelder–Mead search of the exact Gaussian likelihood that [`crate::ml`]
//! computes with the Kalman filter.
//!
//! The constant (a mean without differencing, a drift with one difference)
//! is a regression term of the differenced series, as R handles the
//! intercept and the `drift` regressor: it is estimated together with the
//! ARMA coefficients. MA polynomials with a root inside the unit circle are
//! refused.

use forecastlab_core::optimize::{nelder_mead, NelderMead};

use crate::{
    arima::{roots_outside, Coefficients},
    fit::{Fitted, Series},
    ml::{inverse_partrans, kalman, partrans},
};

/// Simplex settings of the refit: the start is the CSS estimate, so the
/// steps are small.
const SEARCH: NelderMead = NelderMead {
    init_step: 0.05,
    zero_pert: 0.05,
    max_iter: 2_000,
    tol_std: 1e-10,
};

impl Series<'_> {
    /// Refits the CSS fit `css` by exact maximum likelihood (R's
    /// `CSS-ML`): a Nelder–Mead search from the CSS estimates over the
    /// transformed AR blocks, the MA coefficients and the constant, on the
    /// differenced series scaled to unit variance. `None` when the start
    /// has no likelihood, the result is not admissible (roots within
    /// [`crate::arima::ROOT_MARGIN`]) or its likelihood is not better than
    /// the start's — the caller keeps the CSS fit then.
    pub fn refit_ml(&self, css: &Fitted) -> Option<Fitted> {
        let order = css.order;
        let m = order.m;
        let terms = order.arma_terms();
        let constant = css.coefficients.constant.is_some();
        let dimension = terms + usize::from(constant);
        let n = self.w.len();
        let parameters = dimension + 1;
        if n <= parameters + 1 {
            return None;
        }
        let mean = self.w.iter().sum::<f64>() / n as f64;
        let scale = (self.w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        if !(scale.is_finite() && scale > 0.0) {
            return None;
        }
        let z: Vec<f64> = self.w.iter().map(|v| v / scale).collect();
        let (p, q, sp) = (order.p, order.q, order.sp);
        let read = |x: &[f64]| {
            let mut raw = x[..terms].to_vec();
            raw[..p].copy_from_slice(&partrans(&x[..p]));
            raw[p + q..p + q + sp].copy_from_slice(&partrans(&x[p + q..p + q + sp]));
            Coefficients::from_slice(&order, &raw, constant.then(|| x[terms]))
        };
        let filter = |coefficients: &Coefficients| {
            let theta = coefficients.theta(m);
            let ma: Vec<f64> = theta.iter().map(|c| -c).collect();
            if !roots_outside(&ma, 1.0) {
                return None;
            }
            let mu = coefficients.constant.unwrap_or(0.0);
            let centred: Vec<f64> = z.iter().map(|v| v - mu).collect();
            kalman(&centred, &coefficients.phi(m), &theta)
        };
        let objective = |x: &[f64]| filter(&read(x)).map_or(f64::INFINITY, |f| f.objective());
        let start = &css.coefficients;
        let mut x0 = Vec::with_capacity(dimension);
        x0.extend(inverse_partrans(&start.ar)?);
        x0.extend(&start.ma);
        x0.extend(inverse_partrans(&start.sar)?);
        x0.extend(&start.sma);
        if let Some(mu) = start.constant {
            x0.push(mu / scale);
        }
        let start_value = objective(&x0);
        if !start_value.is_finite() {
            return None;
        }
        let unbounded = vec![f64::INFINITY; dimension];
        let lower: Vec<f64> = unbounded.iter().map(|v| -v).collect();
        let best = nelder_mead(objective, &x0, &lower, &unbounded, SEARCH);
        if !(best.value.is_finite() && best.value <= start_value) {
            return None;
        }
        let scaled = read(&best.x);
        if !scaled.admissible(m) {
            return None;
        }
        let filtered = filter(&scaled)?;
        // σ² for the intervals as auto.arima (R and statsforecast) sets it
        // after the fit: the standardised innovations' sum of squares over
        // n − k for the k estimated coefficients.
        let sigma2 = scale * scale * filtered.ssq / (n - dimension) as f64;
        if !(sigma2.is_finite() && sigma2 > 0.0) {
            return None;
        }
        let log_likelihood = filtered.log_likelihood(filtered.sigma2()) - n as f64 * scale.ln();
        let k = parameters as f64;
        let aic = -2.0 * log_likelihood + 2.0 * k;
        let aicc = aic + 2.0 * k * (k + 1.0) / (n as f64 - k - 1.0);
        let coefficients = Coefficients {
            constant: scaled.constant.map(|mu| mu * scale),
            ..scaled
        };
        let state = filtered.state.iter().map(|v| v * scale).collect();
        Some(self.finish_exact(order, coefficients, sigma2, Some(aicc), state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{arima::Order, unit_root::tests::noise};

    #[test]
    fn the_refit_does_not_worsen_the_likelihood() {
        let e = noise(300, 17);
        let mut y = vec![20.0, 20.0];
        for t in 2..300 {
            let x1 = y[t - 1] - 20.0;
            let x2 = y[t - 2] - 20.0;
            y.push(20.0 + 0.5 * x1 + 0.2 * x2 + e[t] + 0.6 * e[t - 1]);
        }
        let order = Order {
            p: 2,
            d: 0,
            q: 1,
            sp: 0,
            sd: 0,
            sq: 0,
            m: 1,
        };
        let series = Series::new(&y, &order);
        let css = series.fit_css(order, true).unwrap();
        let ml = series.refit_ml(&css).unwrap();
        let loglik = |f: &Fitted| {
            let mu = f.coefficients.constant.unwrap();
            let x: Vec<f64> = y.iter().map(|v| v - mu).collect();
            let filtered = kalman(&x, &f.coefficients.phi(1), &f.coefficients.theta(1)).unwrap();
            filtered.log_likelihood(filtered.sigma2())
        };
        assert!(
            loglik(&ml) >= loglik(&css),
            "{:?} vs {:?}",
            ml.coefficients,
            css.coefficients
        );
        assert!(
            (ml.coefficients.ma[0] - 0.6).abs() < 0.2,
            "{:?}",
            ml.coefficients
        );
        // σ² comes from the ML innovations, and the forecast starts from the
        // filtered state.
        let mu = ml.coefficients.constant.unwrap();
        let x: Vec<f64> = y.iter().map(|v| v - mu).collect();
        let filtered = kalman(&x, &ml.coefficients.phi(1), &ml.coefficients.theta(1)).unwrap();
        let sigma2 = filtered.ssq / (300 - 4) as f64;
        assert!((ml.sigma2 - sigma2).abs() < 1e-9 * ml.sigma2);
        let path = ml.forecast(3);
        let phi = ml.coefficients.phi(1);
        let one_step = phi[0] * filtered.state[0] + filtered.state[1] + mu;
        assert!((path[0] - one_step).abs() < 1e-9, "{path:?} vs {one_step}");
        assert!(ml.aicc.is_some_and(f64::is_finite));
    }
}
