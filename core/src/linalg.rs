//! Small dense linear algebra shared by the linear models: ridge regression
//! with an unpenalised intercept (scikit-learn `Ridge(alpha)` semantics),
//! a Cholesky solver with a minimum-norm fallback for singular systems, and
//! column medians for imputation.
//!
//! Matrices are row-major `&[f64]` slices with an explicit column count.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// A fitted linear model `y ≈ intercept + x·coef`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeFit {
    /// One coefficient per column.
    pub coef: Vec<f64>,
    /// Unpenalised intercept.
    pub intercept: f64,
}

impl RidgeFit {
    /// Prediction for one row.
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        self.intercept + dot(&self.coef, row)
    }
}

/// Dot product of two equally long slices.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Ridge regression with an unpenalised intercept: centre the columns and
/// the target, solve `(XcᵀXc + αI) w = Xcᵀyc`, intercept `ȳ − x̄·w`.
/// `x` is row-major with `n_cols` columns and `y.len()` rows; values must be
/// finite. A singular system (α = 0 with collinear columns) gets the
/// minimum-norm solution, as a least-squares solver would.
pub fn ridge(x: &[f64], n_cols: usize, y: &[f64], alpha: f64) -> Result<RidgeFit, CoreError> {
    let n = y.len();
    if n == 0 {
        return Err(CoreError::insufficient("ridge regression", 1, 0));
    }
    if x.len() != n * n_cols {
        return Err(CoreError::input(format!(
            "design matrix has {} values, expected {} rows × {} columns",
            x.len(),
            n,
            n_cols
        )));
    }
    if !alpha.is_finite() || alpha < 0.0 {
        return Err(CoreError::config(format!(
            "alpha: must be a finite number >= 0, got {alpha}"
        )));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(CoreError::input(
            "ridge regression needs finite inputs (impute missing values first)",
        ));
    }
    let inv_n = 1.0 / n as f64;
    let y_mean = y.iter().sum::<f64>() * inv_n;
    let mut x_mean = vec![0.0; n_cols];
    for row in x.chunks_exact(n_cols.max(1)).take(n) {
        for (m, v) in x_mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    for m in &mut x_mean {
        *m *= inv_n;
    }
    if n_cols == 0 {
        return Ok(RidgeFit {
            coef: Vec::new(),
            intercept: y_mean,
        });
    }
    // Gram matrix of the centred columns (upper triangle, then mirrored).
    let p = n_cols;
    let mut gram = vec![0.0; p * p];
    let mut rhs = vec![0.0; p];
    let mut centred = vec![0.0; p];
    for (row, &target) in x.chunks_exact(p).zip(y) {
        for ((c, v), m) in centred.iter_mut().zip(row).zip(&x_mean) {
            *c = v - m;
        }
        let yc = target - y_mean;
        for i in 0..p {
            let ci = centred[i];
            if ci == 0.0 {
                continue;
            }
            rhs[i] += ci * yc;
            let gram_row = &mut gram[i * p..(i + 1) * p];
            for j in i..p {
                gram_row[j] += ci * centred[j];
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            gram[i * p + j] = gram[j * p + i];
        }
        gram[i * p + i] += alpha;
    }
    let coef = solve_spd(&gram, &rhs, p);
    let intercept = y_mean - dot(&x_mean, &coef);
    Ok(RidgeFit { coef, intercept })
}

/// Running moments (`XᵀX`, `Xᵀy`, column sums) of a design matrix fed one
/// sparse row at a time. Designs made mostly of one-hot columns (trend +
/// weekday + month) touch only a few Gram entries per row, so fitting costs
/// O(n·k²) for k non-zeros per row instead of O(n·p²).
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    p: usize,
    n: usize,
    xtx: Vec<f64>,
    xty: Vec<f64>,
    x_sum: Vec<f64>,
    y_sum: f64,
}

impl Moments {
    /// Empty moments of a `p`-column design.
    pub fn new(p: usize) -> Self {
        Self {
            p,
            n: 0,
            xtx: vec![0.0; p * p],
            xty: vec![0.0; p],
            x_sum: vec![0.0; p],
            y_sum: 0.0,
        }
    }

    /// Moments from precomputed sums: `xtx` (p × p, row-major, symmetric),
    /// `xty`, `x_sum` (length p), `y_sum` over `n` rows.
    pub fn from_sums(
        n: usize,
        xtx: Vec<f64>,
        xty: Vec<f64>,
        x_sum: Vec<f64>,
        y_sum: f64,
    ) -> Result<Self, CoreError> {
        let p = xty.len();
        if xtx.len() != p * p || x_sum.len() != p {
            return Err(CoreError::input("moment sums have inconsistent sizes"));
        }
        Ok(Self {
            p,
            n,
            xtx,
            xty,
            x_sum,
            y_sum,
        })
    }

    /// Adds one row given as `(column, value)` pairs (distinct columns).
    pub fn add_sparse_row(&mut self, row: &[(usize, f64)], y: f64) {
        self.n += 1;
        self.y_sum += y;
        for &(i, vi) in row {
            self.x_sum[i] += vi;
            self.xty[i] += vi * y;
            for &(j, vj) in row {
                self.xtx[i * self.p + j] += vi * vj;
            }
        }
    }

    /// Rows added so far.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The ridge fit with an unpenalised intercept (same result as
    /// [`ridge`] on the dense rows).
    pub fn ridge(&self, alpha: f64) -> Result<RidgeFit, CoreError> {
        if self.n == 0 {
            return Err(CoreError::insufficient("ridge regression", 1, 0));
        }
        if !alpha.is_finite() || alpha < 0.0 {
            return Err(CoreError::config(format!(
                "alpha: must be a finite number >= 0, got {alpha}"
            )));
        }
        let p = self.p;
        let n = self.n as f64;
        let x_mean: Vec<f64> = self.x_sum.iter().map(|s| s / n).collect();
        let y_mean = self.y_sum / n;
        let mut gram = vec![0.0; p * p];
        let mut rhs = vec![0.0; p];
        for i in 0..p {
            rhs[i] = self.xty[i] - n * x_mean[i] * y_mean;
            for j in 0..p {
                gram[i * p + j] = self.xtx[i * p + j] - n * x_mean[i] * x_mean[j];
            }
            gram[i * p + i] += alpha;
        }
        let coef = if p == 0 {
            Vec::new()
        } else {
            solve_spd(&gram, &rhs, p)
        };
        let intercept = y_mean - dot(&x_mean, &coef);
        Ok(RidgeFit { coef, intercept })
    }
}

/// Solves `a·w = b` for a symmetric positive semi-definite `a` (p × p,
/// row-major): Cholesky when `a` is positive definite, otherwise the
/// minimum-norm least-squares solution from an eigendecomposition.
pub fn solve_spd(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    cholesky_solve(a, b, p).unwrap_or_else(|| pseudo_inverse_solve(a, b, p))
}

fn cholesky_solve(a: &[f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    let scale = (0..p).map(|i| a[i * p + i].abs()).fold(0.0, f64::max);
    let tolerance = scale * 1e-12;
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut sum = a[i * p + j];
            for k in 0..j {
                sum -= l[i * p + k] * l[j * p + k];
            }
            if i == j {
                if sum <= tolerance {
                    return None;
                }
                l[i * p + i] = sum.sqrt();
            } else {
                l[i * p + j] = sum / l[j * p + j];
            }
        }
    }
    let mut z = vec![0.0; p];
    for i in 0..p {
        let mut sum = b[i];
        for k in 0..i {
            sum -= l[i * p + k] * z[k];
        }
        z[i] = sum / l[i * p + i];
    }
    let mut w = vec![0.0; p];
    for i in (0..p).rev() {
        let mut sum = z[i];
        for k in i + 1..p {
            sum -= l[k * p + i] * w[k];
        }
        w[i] = sum / l[i * p + i];
    }
    Some(w)
}

/// Minimum-norm solution via a cyclic Jacobi eigendecomposition; eigenvalues
/// below a relative tolerance are treated as zero.
fn pseudo_inverse_solve(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let (values, vectors) = jacobi_eigen(a, p);
    let max = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let tolerance = max * 1e-10 * p as f64;
    let mut w = vec![0.0; p];
    for (k, &lambda) in values.iter().enumerate() {
        if lambda.abs() <= tolerance {
            continue;
        }
        // w += v_k (v_kᵀ b) / λ_k ; v_k is column k of `vectors`.
        let projection: f64 = (0..p).map(|i| vectors[i * p + k] * b[i]).sum::<f64>() / lambda;
        for (i, wi) in w.iter_mut().enumerate() {
            *wi += vectors[i * p + k] * projection;
        }
    }
    w
}

/// Eigenvalues and eigenvectors (columns, row-major) of a symmetric matrix.
fn jacobi_eigen(a: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * p + j] * m[i * p + j])
            .sum();
        if off < 1e-22 {
            break;
        }
        for q in 0..p {
            for r in q + 1..p {
                let apq = m[q * p + r];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[r * p + r] - m[q * p + q]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let mkq = m[k * p + q];
                    let mkr = m[k * p + r];
                    m[k * p + q] = c * mkq - s * mkr;
                    m[k * p + r] = s * mkq + c * mkr;
                }
                for k in 0..p {
                    let mqk = m[q * p + k];
                    let mrk = m[r * p + k];
                    m[q * p + k] = c * mqk - s * mrk;
                    m[r * p + k] = s * mqk + c * mrk;
                }
                for k in 0..p {
                    let vkq = v[k * p + q];
                    let vkr = v[k * p + r];
                    v[k * p + q] = c * vkq - s * vkr;
                    v[k * p + r] = s * vkq + c * vkr;
                }
            }
        }
    }
    let values = (0..p).map(|i| m[i * p + i]).collect();
    (values, v)
}

/// Median of the finite values of each column (NaN for a column without
/// any), like scikit-learn's `SimpleImputer(strategy="median")`.
pub fn column_medians(x: &[f64], n_cols: usize) -> Vec<f64> {
    let mut medians = Vec::with_capacity(n_cols);
    let mut column = Vec::new();
    for j in 0..n_cols {
        column.clear();
        column.extend(
            x.chunks_exact(n_cols)
                .map(|row| row[j])
                .filter(|v| v.is_finite()),
        );
        medians.push(median_in_place(&mut column));
    }
    medians
}

/// Median of `values` (mean of the two middle ones for an even count); NaN
/// when empty. Reorders `values`.
pub fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    values.sort_unstable_by(f64::total_cmp);
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn ridge_matches_the_closed_form_on_a_line() {
        // y = 1..10 against x = 0..9 with alpha 1 (acceptance case):
        // slope = Sxy / (Sxx + 1) = 82.5 / 83.5.
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = (1..=10).map(f64::from).collect();
        let fit = ridge(&x, 1, &y, 1.0).unwrap();
        assert!(close(fit.coef[0], 0.98802395, 1e-8), "{:?}", fit);
        assert!(close(fit.intercept, 1.05389222, 1e-8));
        assert!(close(fit.predict_row(&[10.0]), 10.93413174, 1e-8));
    }

    #[test]
    fn ols_recovers_exact_coefficients() {
        // y = 2 + 3 a − b, no noise, alpha 0.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..20 {
            let a = f64::from(i);
            let b = f64::from((i * 7) % 5);
            x.extend([a, b]);
            y.push(2.0 + 3.0 * a - b);
        }
        let fit = ridge(&x, 2, &y, 0.0).unwrap();
        assert!(close(fit.coef[0], 3.0, 1e-9));
        assert!(close(fit.coef[1], -1.0, 1e-9));
        assert!(close(fit.intercept, 2.0, 1e-9));
    }

    #[test]
    fn collinear_columns_get_the_minimum_norm_solution() {
        // Two identical columns with alpha 0: weights split evenly.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..10 {
            let a = f64::from(i);
            x.extend([a, a]);
            y.push(4.0 * a + 1.0);
        }
        let fit = ridge(&x, 2, &y, 0.0).unwrap();
        assert!(close(fit.coef[0], 2.0, 1e-6), "{fit:?}");
        assert!(close(fit.coef[1], 2.0, 1e-6));
        assert!(close(fit.intercept, 1.0, 1e-6));
    }

    #[test]
    fn sparse_moments_match_the_dense_fit() {
        let mut dense = Vec::new();
        let mut moments = Moments::new(4);
        let mut y = Vec::new();
        for e in 0..40usize {
            let d = e % 3;
            let target = 0.5 * e as f64 + [3.0, -1.0, 0.5][d] + ((e * 7) % 5) as f64 * 0.1;
            let mut row = vec![e as f64, 0.0, 0.0, 0.0];
            row[1 + d] = 1.0;
            dense.extend_from_slice(&row);
            moments.add_sparse_row(&[(0, e as f64), (1 + d, 1.0)], target);
            y.push(target);
        }
        for alpha in [0.0, 1.0, 25.0] {
            let a = ridge(&dense, 4, &y, alpha).unwrap();
            let b = moments.ridge(alpha).unwrap();
            assert!(close(a.intercept, b.intercept, 1e-8), "{a:?} {b:?}");
            for (x, z) in a.coef.iter().zip(&b.coef) {
                assert!(close(*x, *z, 1e-8));
            }
        }
        assert!(Moments::new(2).ridge(1.0).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(ridge(&[], 1, &[], 1.0).is_err());
        assert!(ridge(&[f64::NAN], 1, &[1.0], 1.0).is_err());
        assert!(ridge(&[1.0, 2.0], 1, &[1.0], 1.0).is_err());
        assert!(ridge(&[1.0], 1, &[1.0], -1.0).is_err());
    }

    #[test]
    fn medians_skip_missing_values() {
        let x = [1.0, f64::NAN, 3.0, f64::NAN, 2.0, f64::NAN, 10.0, f64::NAN];
        let m = column_medians(&x, 2);
        assert_eq!(m[0], 2.5);
        assert!(m[1].is_nan());
    }
}
