//! One seasonal ARIMA(p,d,q)(P,D,Q)ₘ model: its orders and coefficients,
//! the differencing, the conditional-sum-of-squares (CSS) residual
//! recursion, the admissibility (stationarity and invertibility) check, the
//! point forecast and the ψ-weights behind the forecast variance.
//!
//! Conventions (as R's `arima`): the AR polynomial is
//! `φ(B)Φ(Bᵐ) = (1 − Σφᵢ Bⁱ)(1 − ΣΦᵢ Bⁱᵐ)`, the MA polynomial
//! `θ(B)Θ(Bᵐ) = (1 + Σθᵢ Bⁱ)(1 + ΣΘᵢ Bⁱᵐ)`, and the differenced series
//! `w = (1 − B)ᵈ(1 − Bᵐ)ᴰ y` minus its constant `μ` follows the ARMA.

use serde::{Deserialize, Serialize};

/// Roots of the AR and MA polynomials must lie at least this far out
/// (R's `auto.arima` rejects fits with a root modulus below 1.01).
pub const ROOT_MARGIN: f64 = 1.01;

/// The orders of a seasonal ARIMA model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// Non-seasonal AR order p.
    pub p: usize,
    /// Non-seasonal differences d.
    pub d: usize,
    /// Non-seasonal MA order q.
    pub q: usize,
    /// Seasonal AR order P.
    pub sp: usize,
    /// Seasonal differences D.
    pub sd: usize,
    /// Seasonal MA order Q.
    pub sq: usize,
    /// Season length m (1 = none).
    pub m: usize,
}

impl Order {
    /// Number of ARMA coefficients p + q + P + Q.
    pub fn arma_terms(&self) -> usize {
        self.p + self.q + self.sp + self.sq
    }

    /// Degree of the expanded AR polynomial, p + P·m.
    pub fn ar_degree(&self) -> usize {
        self.p + self.sp * self.m
    }

    /// Degree of the expanded MA polynomial, q + Q·m.
    pub fn ma_degree(&self) -> usize {
        self.q + self.sq * self.m
    }

    /// Observations lost to differencing, d + D·m.
    pub fn lost(&self) -> usize {
        self.d + self.sd * self.m
    }

    /// R's notation, e.g. `"ARIMA(1,1,1)(0,1,1)[7]"`.
    pub fn name(&self) -> String {
        let mut name = format!("ARIMA({},{},{})", self.p, self.d, self.q);
        if self.m > 1 && self.sp + self.sd + self.sq > 0 {
            name.push_str(&format!(
                "({},{},{})[{}]",
                self.sp, self.sd, self.sq, self.m
            ));
        }
        name
    }
}

/// The coefficients of an ARIMA model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficients {
    /// φ₁ … φₚ.
    pub ar: Vec<f64>,
    /// θ₁ … θ_q.
    pub ma: Vec<f64>,
    /// Φ₁ … Φ_P.
    pub sar: Vec<f64>,
    /// Θ₁ … Θ_Q.
    pub sma: Vec<f64>,
    /// Constant μ of the differenced series (a mean without differencing,
    /// a drift with one difference); `None` when the model has none.
    pub constant: Option<f64>,
}

impl Coefficients {
    /// Coefficients of `order` read from `x = [φ…, θ…, Φ…, Θ…]`, with the
    /// constant given apart.
    pub fn from_slice(order: &Order, x: &[f64], constant: Option<f64>) -> Self {
        let (ar, rest) = x.split_at(order.p);
        let (ma, rest) = rest.split_at(order.q);
        let (sar, sma) = rest.split_at(order.sp);
        Self {
            ar: ar.to_vec(),
            ma: ma.to_vec(),
            sar: sar.to_vec(),
            sma: sma[..order.sq].to_vec(),
            constant,
        }
    }

    /// The expanded AR coefficients `phi` with `φ(B)Φ(Bᵐ) = 1 − Σ phiₖ Bᵏ`
    /// (`phi[k - 1]` is the lag-k coefficient).
    pub fn phi(&self, m: usize) -> Vec<f64> {
        let product = multiply(
            &lag_polynomial(&self.ar, 1, -1.0),
            &lag_polynomial(&self.sar, m, -1.0),
        );
        product[1..].iter().map(|c| -c).collect()
    }

    /// The expanded MA coefficients `theta` with `θ(B)Θ(Bᵐ) = 1 + Σ thetaₖ Bᵏ`.
    pub fn theta(&self, m: usize) -> Vec<f64> {
        let product = multiply(
            &lag_polynomial(&self.ma, 1, 1.0),
            &lag_polynomial(&self.sma, m, 1.0),
        );
        product[1..].to_vec()
    }

    /// Whether every root of the AR and MA polynomials lies outside the
    /// circle of radius [`ROOT_MARGIN`].
    pub fn admissible(&self, m: usize) -> bool {
        let ma: Vec<f64> = self.theta(m).iter().map(|c| -c).collect();
        roots_outside(&self.phi(m), ROOT_MARGIN) && roots_outside(&ma, ROOT_MARGIN)
    }
}

/// `1 + sign·Σ cᵢ B^(i·step)` as dense coefficients from B⁰.
fn lag_polynomial(coefficients: &[f64], step: usize, sign: f64) -> Vec<f64> {
    let mut out = vec![0.0; coefficients.len() * step + 1];
    out[0] = 1.0;
    for (i, c) in coefficients.iter().enumerate() {
        out[(i + 1) * step] = sign * c;
    }
    out
}

/// Product of two polynomials given by their coefficients from B⁰.
pub fn multiply(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        if *x == 0.0 {
            continue;
        }
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// Whether every root of `1 − Σ aₖ zᵏ` has a modulus above `radius`: the
/// polynomial in `z = radius·u` must be stable in `u`, which the Schur–Cohn
/// step-down recursion (all reflection coefficients inside (−1, 1)) tells.
pub fn roots_outside(a: &[f64], radius: f64) -> bool {
    let mut scale = 1.0;
    let mut current: Vec<f64> = a
        .iter()
        .map(|c| {
            scale *= radius;
            c * scale
        })
        .collect();
    while let Some(&last) = current.last() {
        if last == 0.0 {
            current.pop();
            continue;
        }
        if !last.is_finite() || last.abs() >= 1.0 {
            return false;
        }
        let k = current.len();
        let denominator = 1.0 - last * last;
        current = (0..k - 1)
            .map(|j| (current[j] + last * current[k - 2 - j]) / denominator)
            .collect();
    }
    true
}

/// The differencing polynomial `(1 − B)ᵈ(1 − Bᵐ)ᴰ` from B⁰.
pub fn differencing(order: &Order) -> Vec<f64> {
    let mut out = vec![1.0];
    for _ in 0..order.d {
        out = multiply(&out, &[1.0, -1.0]);
    }
    for _ in 0..order.sd {
        out = multiply(&out, &lag_polynomial(&[1.0], order.m, -1.0));
    }
    out
}

/// Applies `d` plain and `sd` seasonal (lag `m`) differences to `y`.
pub fn difference(y: &[f64], d: usize, sd: usize, m: usize) -> Vec<f64> {
    let mut w = y.to_vec();
    for _ in 0..sd {
        w = w.windows(m + 1).map(|v| v[m] - v[0]).collect();
    }
    for _ in 0..d {
        w = w.windows(2).map(|v| v[1] - v[0]).collect();
    }
    w
}

/// The non-zero lags of expanded coefficients as `(lag, coefficient)`.
pub fn sparse(coefficients: &[f64]) -> Vec<(usize, f64)> {
    coefficients
        .iter()
        .enumerate()
        .filter(|(_, c)| **c != 0.0)
        .map(|(i, c)| (i + 1, *c))
        .collect()
}

/// CSS residuals of the centred differenced series `x`: zero for the
/// first `phi.len()` values, then `eₜ = xₜ − Σ phiₖ xₜ₋ₖ − Σ thetaₖ eₜ₋ₖ`.
pub fn residuals(
    x: &[f64],
    phi: &[(usize, f64)],
    theta: &[(usize, f64)],
    start: usize,
) -> Vec<f64> {
    let mut e = vec![0.0; x.len()];
    for t in start..x.len() {
        let mut value = x[t];
        for &(k, c) in phi {
            value -= c * x[t - k];
        }
        for &(k, c) in theta {
            if k <= t {
                value -= c * e[t - k];
            }
        }
        e[t] = value;
    }
    e
}

/// Forecasts the centred differenced series `horizon` steps on from its
/// last values `x` and residuals `e` (future innovations are zero).
pub fn forecast_arma(x: &[f64], e: &[f64], phi: &[f64], theta: &[f64], horizon: usize) -> Vec<f64> {
    let n = x.len();
    let mut path = x.to_vec();
    let mut errors = e.to_vec();
    for t in n..n + horizon {
        let mut value = 0.0;
        for (i, c) in phi.iter().enumerate() {
            if let Some(v) = t.checked_sub(i + 1).and_then(|s| path.get(s)) {
                value += c * v;
            }
        }
        for (i, c) in theta.iter().enumerate() {
            if let Some(v) = t.checked_sub(i + 1).and_then(|s| errors.get(s)) {
                value += c * v;
            }
        }
        path.push(value);
        errors.push(0.0);
    }
    path.split_off(n)
}

/// Undoes the differencing of forecasts `w` of the differenced series
/// after the observed tail `y` (at least `delta.len() − 1` values):
/// `yₜ = wₜ − Σ deltaₖ yₜ₋ₖ` for the differencing polynomial `delta`.
pub fn integrate(y: &[f64], w: &[f64], delta: &[f64]) -> Vec<f64> {
    let n = y.len();
    let mut path = y.to_vec();
    for (h, value) in w.iter().enumerate() {
        let t = n + h;
        let mut level = *value;
        for (k, c) in delta.iter().enumerate().skip(1) {
            level -= c * path[t - k];
        }
        path.push(level);
    }
    path.split_off(n)
}

/// ψ-weights ψ₀ … ψ_{horizon−1} of the full model (AR polynomial times the
/// differencing): the h-step forecast variance is σ²·Σ_{j<h} ψⱼ².
pub fn psi_weights(phi: &[f64], theta: &[f64], delta: &[f64], horizon: usize) -> Vec<f64> {
    let mut ar = vec![1.0];
    ar.extend(phi.iter().map(|c| -c));
    let full: Vec<f64> = multiply(&ar, delta)[1..].iter().map(|c| -c).collect();
    let mut psi = Vec::with_capacity(horizon);
    for j in 0..horizon {
        let mut value = if j == 0 {
            1.0
        } else {
            theta.get(j - 1).copied().unwrap_or(0.0)
        };
        for (k, c) in full.iter().enumerate().take(j) {
            value += c * psi[j - k - 1];
        }
        psi.push(value);
    }
    psi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(p: usize, d: usize, q: usize, sp: usize, sd: usize, sq: usize, m: usize) -> Order {
        Order {
            p,
            d,
            q,
            sp,
            sd,
            sq,
            m,
        }
    }

    #[test]
    fn polynomials_expand_as_products() {
        let coefficients = Coefficients {
            ar: vec![0.5],
            ma: vec![0.3],
            sar: vec![0.2],
            sma: vec![-0.4],
            constant: None,
        };
        // (1 − 0.5B)(1 − 0.2B⁴) = 1 − 0.5B − 0.2B⁴ + 0.1B⁵.
        assert_eq!(coefficients.phi(4), vec![0.5, 0.0, 0.0, 0.2, -0.1]);
        // (1 + 0.3B)(1 − 0.4B⁴) = 1 + 0.3B − 0.4B⁴ − 0.12B⁵.
        let theta = coefficients.theta(4);
        assert!((theta[4] + 0.12).abs() < 1e-12 && theta[3] == -0.4 && theta[0] == 0.3);
        assert!(coefficients.admissible(4));
        assert_eq!(
            differencing(&order(0, 1, 0, 0, 1, 0, 3)),
            vec![1.0, -1.0, 0.0, -1.0, 1.0]
        );
        assert_eq!(order(1, 1, 1, 0, 1, 1, 7).name(), "ARIMA(1,1,1)(0,1,1)[7]");
    }

    #[test]
    fn root_checks() {
        assert!(roots_outside(&[0.9], 1.01));
        assert!(!roots_outside(&[0.995], 1.01));
        assert!(!roots_outside(&[1.2], 1.0));
        // 1 − 1.5z + 0.56z² = (1 − 0.7z)(1 − 0.8z): roots 1.43 and 1.25.
        assert!(roots_outside(&[1.5, -0.56], 1.01));
        // (1 − 0.7z)(1 − 1.1z) has a root inside.
        assert!(!roots_outside(&[1.8, -0.77], 1.0));
        assert!(roots_outside(&[], 1.01));
    }

    #[test]
    fn differencing_round_trips() {
        let y: Vec<f64> = (0..30)
            .map(|t| (t * t % 11) as f64 + 0.5 * t as f64)
            .collect();
        let o = order(0, 1, 0, 0, 1, 0, 7);
        let w = difference(&y, 1, 1, 7);
        assert_eq!(w.len(), 30 - 8);
        let delta = differencing(&o);
        let rebuilt = integrate(&y[..22], &w[14..], &delta);
        for (a, b) in rebuilt.iter().zip(&y[22..]) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    #[test]
    fn psi_weights_of_known_models() {
        // AR(1): ψⱼ = φʲ.
        let psi = psi_weights(&[0.5], &[], &[1.0], 4);
        assert_eq!(psi, vec![1.0, 0.5, 0.25, 0.125]);
        // Random walk: all ones.
        assert_eq!(psi_weights(&[], &[], &[1.0, -1.0], 3), vec![1.0; 3]);
        // MA(1) after one difference: 1, 1 + θ, 1 + θ, …
        let psi = psi_weights(&[], &[0.4], &[1.0, -1.0], 3);
        assert!((psi[1] - 1.4).abs() < 1e-12 && (psi[2] - 1.4).abs() < 1e-12);
    }

    #[test]
    fn arma_forecast_decays_to_zero() {
        let path = forecast_arma(&[2.0], &[0.0], &[0.5], &[], 3);
        assert_eq!(path, vec![1.0, 0.5, 0.25]);
        let path = forecast_arma(&[0.0, 1.0], &[0.0, 1.0], &[], &[0.6], 2);
        assert_eq!(path, vec![0.6, 0.0]);
    }
}
