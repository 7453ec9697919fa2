//! Exact Gaussian likelihood of an ARMA model and the maximum-likelihood
//! refit of a CSS fit (R's `method = "CSS-ML"`).
//!
//! The centred differenced series `x` follows the ARMA in the state-space
//! form R's `makeARIMA` uses (Harvey 1989): a state of dimension
//! `r = max(p, q + 1)` with `xₜ = aₜ[0]`, `aₜ₊₁ = T·aₜ + R·eₜ₊₁`, `T` the
//! companion matrix of the expanded AR coefficients (first column) over a
//! shifted identity and `R = (1, θ₁, …, θ_{r−1})`. The Kalman filter starts
//! from the stationary state covariance `P₀` (what Gardner et al. 1980 and
//! R's `SSinit = "Gardner1980"` compute, obtained here from the ARMA
//! autocovariances and the ψ-weights) and gives the innovations `vₜ` with
//! variances `σ²·Fₜ`; with σ² concentrated out, R's objective is
//! `½·(ln(Σvₜ²/Fₜ / n) + Σ ln Fₜ / n)`.
//!
//! The constant (a mean without differencing, a drift with one difference)
//! is a regression term of the differenced series, as R handles the
//! intercept and the `drift` regressor: it is estimated together with the
//! ARMA coefficients. AR blocks are searched through R's PACF transform
//! (`tanh` then Durbin–Levinson), so every step is stationary; MA
//! polynomials with a root inside the unit circle are refused.

use forecastlab_core::optimize::{nelder_mead, NelderMead};

use crate::{
    arima::{roots_outside, Coefficients},
    fit::{Fitted, Series},
};

/// Simplex settings of the refit: the start is the CSS estimate, so the
/// steps are small.
const SEARCH: NelderMead = NelderMead {
    init_step: 0.05,
    zero_pert: 0.05,
    max_iter: 2_000,
    tol_std: 1e-10,
};

/// Below this entry size the filtered state covariance counts as zero:
/// the filter has reached its steady state (`Fₜ = 1`) and the remaining
/// steps need only the state.
const STEADY: f64 = 1e-11;

/// What the Kalman filter accumulates over the series (innovation
/// variances in units of σ²).
#[derive(Debug, Clone, PartialEq)]
pub struct Filtered {
    /// `Σ vₜ² / Fₜ`.
    pub ssq: f64,
    /// `Σ ln Fₜ`.
    pub sumlog: f64,
    /// Number of innovations.
    pub nu: usize,
    /// The filtered state `a_{n|n}` after the last observation.
    pub state: Vec<f64>,
}

impl Filtered {
    /// The maximum-likelihood innovation variance `Σ vₜ²/Fₜ / n`.
    pub fn sigma2(&self) -> f64 {
        self.ssq / self.nu as f64
    }

    /// R's concentrated objective `½·(ln σ̂² + Σ ln Fₜ / n)`.
    pub fn objective(&self) -> f64 {
        0.5 * (self.sigma2().ln() + self.sumlog / self.nu as f64)
    }

    /// The exact Gaussian log-likelihood at innovation variance `sigma2`.
    pub fn log_likelihood(&self, sigma2: f64) -> f64 {
        let n = self.nu as f64;
        -0.5 * (n * (2.0 * std::f64::consts::PI * sigma2).ln() + self.sumlog + self.ssq / sigma2)
    }
}

/// Solves the dense `k × k` system `a·x = b` (row-major) by Gaussian
/// elimination with partial pivoting; `None` when it is singular.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, k: usize) -> Option<Vec<f64>> {
    for col in 0..k {
        let pivot =
            (col..k).max_by(|i, j| a[i * k + col].abs().total_cmp(&a[j * k + col].abs()))?;
        if a[pivot * k + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for j in 0..k {
                a.swap(col * k + j, pivot * k + j);
            }
            b.swap(col, pivot);
        }
        for row in col + 1..k {
            let factor = a[row * k + col] / a[col * k + col];
            if factor != 0.0 {
                for j in col..k {
                    a[row * k + j] -= factor * a[col * k + j];
                }
                b[row] -= factor * b[col];
            }
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let tail: f64 = (row + 1..k).map(|j| a[row * k + j] * x[j]).sum();
        x[row] = (b[row] - tail) / a[row * k + row];
    }
    Some(x)
}

/// ψ-weights ψ₀ … ψ_{count−1} of the ARMA `phi`, `theta` (no differencing).
fn arma_psi(phi: &[f64], theta: &[f64], count: usize) -> Vec<f64> {
    let mut psi: Vec<f64> = Vec::with_capacity(count);
    for j in 0..count {
        let mut value = if j == 0 {
            1.0
        } else {
            theta.get(j - 1).copied().unwrap_or(0.0)
        };
        for (k, c) in phi.iter().enumerate().take(j) {
            value += c * psi[j - k - 1];
        }
        psi.push(value);
    }
    psi
}

/// Autocovariances γ(0) … γ(lags) of the unit-variance ARMA `phi`, `theta`:
/// `γ(k) − Σⱼ φⱼ γ(|k−j|) = Σ_{j≥k} θⱼ ψ_{j−k}` (θ₀ = 1) solved for
/// γ(0…p), then the recursion beyond. `None` when the AR part is not
/// stationary enough for the system to be solvable.
pub fn autocovariances(phi: &[f64], theta: &[f64], lags: usize) -> Option<Vec<f64>> {
    let p = phi.len();
    let q = theta.len();
    let psi = arma_psi(phi, theta, q + 1);
    let theta_at = |j: usize| if j == 0 { 1.0 } else { theta[j - 1] };
    let rhs = |k: usize| -> f64 { (k..=q).map(|j| theta_at(j) * psi[j - k]).sum() };
    let k = p + 1;
    let mut a = vec![0.0; k * k];
    for row in 0..k {
        a[row * k + row] += 1.0;
        for (j, c) in phi.iter().enumerate() {
            let lag = (row as isize - (j as isize + 1)).unsigned_abs();
            a[row * k + lag] -= c;
        }
    }
    let b: Vec<f64> = (0..k).map(rhs).collect();
    let mut gamma = solve(a, b, k)?;
    for lag in k..=lags {
        let value = phi
            .iter()
            .enumerate()
            .map(|(j, c)| c * gamma[lag - j - 1])
            .sum::<f64>()
            + if lag <= q { rhs(lag) } else { 0.0 };
        gamma.push(value);
    }
    gamma.truncate(lags + 1);
    gamma.iter().all(|g| g.is_finite()).then_some(gamma)
}

/// Dimension `r = max(p, q + 1)` of the state.
pub fn state_dimension(phi: &[f64], theta: &[f64]) -> usize {
    phi.len().max(theta.len() + 1)
}

/// The stationary covariance `P₀` (r × r, row-major, in units of σ²) of
/// the state. Element i ≥ 1 of the state is
/// `Σ_{k>i} φₖ xₜ₊ᵢ₋ₖ + Σ_{k≥i} θₖ eₜ₊ᵢ₋ₖ`, a linear map `L` of
/// `v = (xₜ … xₜ₋ᵣ₊₁, eₜ … eₜ₋ᵣ₊₁)` whose covariance holds the
/// autocovariances, the cross-covariances `Cov(xₛ, eᵤ) = ψ_{s−u}` and the
/// identity: `P₀ = L·Cov(v)·Lᵀ`.
pub fn stationary_covariance(phi: &[f64], theta: &[f64]) -> Option<Vec<f64>> {
    let r = state_dimension(phi, theta);
    let gamma = autocovariances(phi, theta, r)?;
    let psi = arma_psi(phi, theta, r);
    let phi_at = |k: usize| phi.get(k.wrapping_sub(1)).copied().unwrap_or(0.0);
    let theta_at = |k: usize| {
        if k == 0 {
            1.0
        } else {
            theta.get(k - 1).copied().unwrap_or(0.0)
        }
    };
    let width = 2 * r;
    // Rows of L over v (x lags 0..r, then e lags 0..r).
    let mut l = vec![0.0; r * width];
    l[0] = 1.0;
    for i in 1..r {
        for k in i + 1..=r {
            l[i * width + (k - i)] += phi_at(k);
        }
        for k in i..r {
            l[i * width + r + (k - i)] += theta_at(k);
        }
    }
    let mut cov = vec![0.0; width * width];
    for s in 0..r {
        for u in 0..r {
            cov[s * width + u] = gamma[s.abs_diff(u)];
            // Cov(x_{t−s}, e_{t−u}) = ψ_{u−s} when u ≥ s.
            let cross = if u >= s { psi[u - s] } else { 0.0 };
            cov[s * width + r + u] = cross;
            cov[(r + u) * width + s] = cross;
        }
        cov[(r + s) * width + r + s] = 1.0;
    }
    let mut lc = vec![0.0; r * width];
    for i in 0..r {
        for (k, lik) in l[i * width..(i + 1) * width].iter().enumerate() {
            if *lik != 0.0 {
                for j in 0..width {
                    lc[i * width + j] += lik * cov[k * width + j];
                }
            }
        }
    }
    let mut p0 = vec![0.0; r * r];
    for i in 0..r {
        for j in 0..r {
            p0[i * r + j] = (0..width)
                .map(|k| lc[i * width + k] * l[j * width + k])
                .sum();
        }
    }
    p0.iter().all(|v| v.is_finite()).then_some(p0)
}

/// Runs the Kalman filter of the ARMA `phi`, `theta` over the centred
/// series `x` from the stationary start (R's `ARIMA_Like`). Once the
/// filtered covariance vanishes (every diagonal entry below 1e-11, which
/// bounds the others as the matrix is positive semi-definite) the
/// steady-state steps need the state only. `None` when `P₀` cannot be
/// computed or an innovation variance is not positive.
pub fn kalman(x: &[f64], phi: &[f64], theta: &[f64]) -> Option<Filtered> {
    let r = state_dimension(phi, theta);
    let mut pm = stationary_covariance(phi, theta)?;
    // φ padded to r, and R = (1, θ₁ … θ_{r−1}).
    let mut phi_r = vec![0.0; r];
    phi_r[..phi.len()].copy_from_slice(phi);
    let mut rv = vec![0.0; r];
    rv[0] = 1.0;
    rv[1..=theta.len()].copy_from_slice(theta);
    let mut a = vec![0.0; r];
    let mut anew = vec![0.0; r];
    let mut pnew = vec![0.0; r * r];
    let mut c = vec![0.0; r];
    let (mut ssq, mut sumlog, mut product) = (0.0, 0.0, 1.0_f64);
    let mut steady = false;
    for (t, value) in x.iter().enumerate() {
        // Predict: anew = T·a.
        let first = a[0];
        for i in 0..r {
            let shifted = if i + 1 < r { a[i + 1] } else { 0.0 };
            anew[i] = shifted + phi_r[i] * first;
        }
        let v = value - anew[0];
        if steady {
            // P = 0, so Pnew = R·Rᵀ, F = 1 and the gain is R.
            ssq += v * v;
            for ((ai, ni), ri) in a.iter_mut().zip(&anew).zip(&rv) {
                *ai = ni + ri * v;
            }
            continue;
        }
        if t == 0 {
            pnew.copy_from_slice(&pm);
        } else {
            // Pnew = T·P·Tᵀ + R·Rᵀ with T = [φ | shift]: the shifted P plus
            // φ·cᵀ + c·φᵀ + R·Rᵀ, where cⱼ = P[j+1][0] + ½·φⱼ·P[0][0].
            let p00 = pm[0];
            for j in 0..r {
                let below = if j + 1 < r { pm[(j + 1) * r] } else { 0.0 };
                c[j] = below + 0.5 * phi_r[j] * p00;
            }
            for i in 0..r {
                let row = &mut pnew[i * r..(i + 1) * r];
                if i + 1 < r {
                    row[..r - 1].copy_from_slice(&pm[(i + 1) * r + 1..(i + 2) * r]);
                    row[r - 1] = 0.0;
                } else {
                    row.fill(0.0);
                }
                let (fi, ci, ri) = (phi_r[i], c[i], rv[i]);
                for (((cell, fj), cj), rj) in row.iter_mut().zip(&phi_r).zip(&c).zip(&rv) {
                    *cell += fi * cj + ci * fj + ri * rj;
                }
            }
        }
        let gain = pnew[0];
        if !(gain.is_finite() && gain > 0.0) {
            return None;
        }
        ssq += v * v / gain;
        // Σ ln Fₜ as the logarithm of a running product (Fₜ ≥ 1 shrinks
        // towards 1), taken when the product exceeds 1e100 and at the end.
        product *= gain;
        if product > 1e100 {
            sumlog += product.ln();
            product = 1.0;
        }
        let step = v / gain;
        let mut largest = 0.0_f64;
        for i in 0..r {
            let ki = pnew[i];
            a[i] = anew[i] + ki * step;
            let factor = ki / gain;
            let (target, source) = (&mut pm[i * r..(i + 1) * r], &pnew[i * r..(i + 1) * r]);
            for ((cell, s), k) in target.iter_mut().zip(source).zip(&pnew[..r]) {
                *cell = s - factor * k;
            }
            largest = largest.max(pm[i * r + i]);
        }
        steady = largest < STEADY;
    }
    sumlog += product.ln();
    (!x.is_empty() && ssq.is_finite()).then_some(Filtered {
        ssq,
        sumlog,
        nu: x.len(),
        state: a,
    })
}

/// Forecasts `horizon` steps of the centred differenced series from the
/// filtered state: `a ← T·a`, the forecast is `a[0]`.
pub fn forecast_state(state: &[f64], phi: &[f64], horizon: usize) -> Vec<f64> {
    let mut a = state.to_vec();
    let r = a.len();
    (0..horizon)
        .map(|_| {
            let first = a[0];
            for i in 0..r {
                let shifted = if i + 1 < r { a[i + 1] } else { 0.0 };
                a[i] = shifted + phi.get(i).map_or(0.0, |c| c * first);
            }
            a[0]
        })
        .collect()
}

/// R's `partrans`: unconstrained values to the coefficients of a
/// stationary AR polynomial (`tanh` gives the partial autocorrelations,
/// the Durbin–Levinson recursion the coefficients).
pub fn partrans(raw: &[f64]) -> Vec<f64> {
    let mut new: Vec<f64> = raw.iter().map(|v| v.tanh()).collect();
    let mut work = new.clone();
    for j in 1..new.len() {
        let a = new[j];
        for k in 0..j {
            work[k] -= a * new[j - k - 1];
        }
        new[..j].copy_from_slice(&work[..j]);
    }
    new
}

/// The inverse of [`partrans`] (R's `invpartrans`): the Durbin–Levinson
/// recursion run backwards, then `atanh`; `None` when a partial
/// autocorrelation is not inside (−1, 1).
pub fn inverse_partrans(phi: &[f64]) -> Option<Vec<f64>> {
    let mut new = phi.to_vec();
    let mut work = new.clone();
    for j in (1..new.len()).rev() {
        let a = new[j];
        let denominator = 1.0 - a * a;
        if denominator <= 0.0 {
            return None;
        }
        for k in 0..j {
            work[k] = (new[k] + a * new[j - k - 1]) / denominator;
        }
        new[..j].copy_from_slice(&work[..j]);
    }
    new.iter()
        .map(|v| (v.abs() < 1.0).then(|| v.atanh()))
        .collect()
}

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

    /// Dense multivariate-normal log-likelihood of `x` with covariance
    /// `sigma` (n × n) by Cholesky.
    fn dense_log_likelihood(x: &[f64], sigma: &[f64]) -> f64 {
        let n = x.len();
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let mut sum = sigma[i * n + j];
                for k in 0..j {
                    sum -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = if i == j {
                    sum.sqrt()
                } else {
                    sum / l[j * n + j]
                };
            }
        }
        // Solve L·u = x; x'Σ⁻¹x = u'u, ln det Σ = 2 Σ ln Lᵢᵢ.
        let mut u = vec![0.0; n];
        for i in 0..n {
            let s: f64 = (0..i).map(|k| l[i * n + k] * u[k]).sum();
            u[i] = (x[i] - s) / l[i * n + i];
        }
        let quad: f64 = u.iter().map(|v| v * v).sum();
        let logdet: f64 = (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum();
        -0.5 * (n as f64 * (2.0 * std::f64::consts::PI).ln() + logdet + quad)
    }

    #[test]
    fn ar1_likelihood_matches_the_closed_form() {
        let e = noise(60, 3);
        let phi = 0.6;
        let mut x = vec![e[0] / (1.0_f64 - phi * phi).sqrt()];
        for t in 1..60 {
            x.push(phi * x[t - 1] + e[t]);
        }
        let sigma2 = 1.7;
        let filtered = kalman(&x, &[phi], &[]).unwrap();
        let n = x.len() as f64;
        let ssq = (1.0 - phi * phi) * x[0] * x[0]
            + (1..60)
                .map(|t| (x[t] - phi * x[t - 1]).powi(2))
                .sum::<f64>();
        let closed = -0.5
            * (n * (2.0 * std::f64::consts::PI * sigma2).ln() - (1.0 - phi * phi).ln()
                + ssq / sigma2);
        let ours = filtered.log_likelihood(sigma2);
        assert!((ours - closed).abs() < 1e-9, "{ours} vs {closed}");
        // The first observation's variance is σ²/(1 − φ²).
        assert!((stationary_covariance(&[phi], &[]).unwrap()[0] - 1.0 / 0.64).abs() < 1e-12);
    }

    #[test]
    fn ma1_likelihood_matches_the_dense_normal_density() {
        let e = noise(41, 8);
        let theta = -0.7;
        let x: Vec<f64> = (1..41).map(|t| e[t] + theta * e[t - 1]).collect();
        let n = x.len();
        let sigma2 = 0.8;
        let mut sigma = vec![0.0; n * n];
        for i in 0..n {
            sigma[i * n + i] = sigma2 * (1.0 + theta * theta);
            if i + 1 < n {
                sigma[i * n + i + 1] = sigma2 * theta;
                sigma[(i + 1) * n + i] = sigma2 * theta;
            }
        }
        let dense = dense_log_likelihood(&x, &sigma);
        let ours = kalman(&x, &[], &[theta]).unwrap().log_likelihood(sigma2);
        assert!((ours - dense).abs() < 1e-8, "{ours} vs {dense}");
    }

    #[test]
    fn seasonal_arma_likelihood_matches_the_dense_normal_density() {
        // (1 − 0.5B)(1 − 0.3B⁴) x = (1 + 0.4B)(1 − 0.6B⁴) e: a 10-step
        // covariance from the autocovariances against the filter.
        let coefficients = Coefficients {
            ar: vec![0.5],
            ma: vec![0.4],
            sar: vec![0.3],
            sma: vec![-0.6],
            constant: None,
        };
        let (phi, theta) = (coefficients.phi(4), coefficients.theta(4));
        let x: Vec<f64> = noise(30, 4).iter().map(|v| 2.0 * v).collect();
        let gamma = autocovariances(&phi, &theta, x.len()).unwrap();
        let n = x.len();
        let sigma: Vec<f64> = (0..n * n).map(|k| gamma[(k / n).abs_diff(k % n)]).collect();
        let dense = dense_log_likelihood(&x, &sigma);
        let ours = kalman(&x, &phi, &theta).unwrap().log_likelihood(1.0);
        assert!((ours - dense).abs() < 1e-8, "{ours} vs {dense}");
        // P₀ solves the Lyapunov equation P = T·P·Tᵀ + R·Rᵀ.
        let r = state_dimension(&phi, &theta);
        let p0 = stationary_covariance(&phi, &theta).unwrap();
        let t = |i: usize, j: usize| {
            let companion = if j == 0 {
                phi.get(i).copied().unwrap_or(0.0)
            } else {
                0.0
            };
            companion + if j == i + 1 { 1.0 } else { 0.0 }
        };
        let rv = |i: usize| {
            if i == 0 {
                1.0
            } else {
                theta.get(i - 1).copied().unwrap_or(0.0)
            }
        };
        for i in 0..r {
            for j in 0..r {
                let mut value = rv(i) * rv(j);
                for k in 0..r {
                    for l in 0..r {
                        value += t(i, k) * p0[k * r + l] * t(j, l);
                    }
                }
                assert!((value - p0[i * r + j]).abs() < 1e-9, "({i},{j})");
            }
        }
    }

    #[test]
    fn ar1_autocovariances_and_transforms() {
        let gamma = autocovariances(&[0.5], &[], 3).unwrap();
        let expected = [4.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0];
        for (a, b) in gamma.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12);
        }
        let phi = [1.1, -0.3, 0.05];
        let back = partrans(&inverse_partrans(&phi).unwrap());
        for (a, b) in back.iter().zip(phi) {
            assert!((a - b).abs() < 1e-12, "{back:?}");
        }
        assert!(roots_outside(&partrans(&[3.0, -2.0, 5.0]), 1.0));
        assert!(inverse_partrans(&[1.2]).is_none());
    }

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
