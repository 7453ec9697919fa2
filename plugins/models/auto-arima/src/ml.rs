//! Exact Gaussian likelihood of an ARMA model, the PACF transform of AR
//! blocks and forecasts from a filtered state: the arithmetic of the
//! maximum-likelihood refit in [`crate::refit`] (R's `method = "CSS-ML"`).
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
//! AR blocks are searched through R's PACF transform (`tanh` then
//! Durbin–Levinson, [`partrans`]), so every step of a search is stationary.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        arima::{roots_outside, Coefficients},
        unit_root::tests::noise,
    };

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
}
