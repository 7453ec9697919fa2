//! Quasi-Newton minimisation for the CSS fits: BFGS with central-difference
//! gradients, as statsforecast (scipy's `minimize(method="BFGS")`) and R
//! (`optim(method = "BFGS")`) minimise the conditional sum of squares.
//!
//! A simplex search stalls on the ten-odd coefficients of a high-order
//! seasonal ARIMA and reports a worse fit than the order really has, which
//! steers the stepwise search away from it; BFGS follows the curvature
//! instead. The objective may be +∞ or NaN where the recursions explode:
//! the backtracking line search treats both as "too far" and halves the
//! step.

/// Most iterations.
const MAX_ITERATIONS: usize = 200;
/// Stop when the gradient's Euclidean norm falls below.
const GRADIENT_TOLERANCE: f64 = 1e-8;
/// Stop when an iteration lowers the objective by less than this share.
const RELATIVE_TOLERANCE: f64 = 1e-10;
/// Sufficient-decrease constant of the Armijo condition.
const ARMIJO: f64 = 1e-4;
/// Shortest step the line search tries.
const MIN_STEP: f64 = 1e-12;

/// The objective with NaN read as +∞.
fn value(f: &impl Fn(&[f64]) -> f64, x: &[f64]) -> f64 {
    let v = f(x);
    if v.is_nan() {
        f64::INFINITY
    } else {
        v
    }
}

/// Central-difference gradient of `f` at `x`, step `1e-6·(1 + |xᵢ|)`.
fn gradient(f: &impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + x[i].abs());
            probe[i] = x[i] + h;
            let up = value(f, &probe);
            probe[i] = x[i] - h;
            let down = value(f, &probe);
            probe[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `h·v` for the row-major n × n matrix `h`.
fn times(h: &[f64], v: &[f64]) -> Vec<f64> {
    h.chunks_exact(v.len()).map(|row| dot(row, v)).collect()
}

fn identity(n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    h.iter_mut().step_by(n + 1).for_each(|d| *d = 1.0);
    h
}

/// Minimises `f` from `x0` (unbounded); returns the best point found.
/// Starts from the identity as inverse Hessian and restarts from it when
/// the update stops giving a descent direction.
pub fn minimise(f: impl Fn(&[f64]) -> f64, x0: &[f64]) -> Vec<f64> {
    let n = x0.len();
    let mut x = x0.to_vec();
    if n == 0 {
        return x;
    }
    let mut fx = value(&f, &x);
    if !fx.is_finite() {
        return x;
    }
    let mut g = gradient(&f, &x);
    let mut inverse_hessian = identity(n);
    for _ in 0..MAX_ITERATIONS {
        let norm = dot(&g, &g).sqrt();
        if !norm.is_finite() || norm < GRADIENT_TOLERANCE {
            break;
        }
        let mut direction: Vec<f64> = times(&inverse_hessian, &g).iter().map(|v| -v).collect();
        let mut slope = dot(&direction, &g);
        if slope >= 0.0 {
            inverse_hessian = identity(n);
            direction = g.iter().map(|v| -v).collect();
            slope = -norm * norm;
        }
        let mut step = 1.0;
        let (next, f_next) = loop {
            let candidate: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(a, d)| a + step * d)
                .collect();
            let f_candidate = value(&f, &candidate);
            if f_candidate <= fx + ARMIJO * step * slope || step < MIN_STEP {
                break (candidate, f_candidate);
            }
            step *= 0.5;
        };
        if f_next >= fx {
            break;
        }
        let g_next = gradient(&f, &next);
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_next.iter().zip(&g).map(|(a, b)| a - b).collect();
        let converged = (fx - f_next).abs() < RELATIVE_TOLERANCE * (1.0 + fx.abs());
        (x, fx, g) = (next, f_next, g_next);
        if converged {
            break;
        }
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            // H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ, expanded.
            let hy = times(&inverse_hessian, &y);
            let yhy = dot(&y, &hy);
            for i in 0..n {
                for j in 0..n {
                    inverse_hessian[i * n + j] +=
                        (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy;
                }
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_quadratic_and_of_rosenbrock() {
        let quadratic =
            |x: &[f64]| (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2) + x[0] * x[1];
        // ∇ = 0 at 2(x − 3) + y = 0 and 20(y + 1) + x = 0.
        let x = minimise(quadratic, &[0.0, 0.0]);
        assert!((x[0] - 140.0 / 39.0).abs() < 1e-5, "{x:?}");
        assert!((x[1] + 46.0 / 39.0).abs() < 1e-5, "{x:?}");
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let x = minimise(rosenbrock, &[-1.2, 1.0]);
        assert!(
            (x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3,
            "{x:?}"
        );
    }

    #[test]
    fn steps_back_from_infinite_and_nan_regions() {
        // Finite only inside the unit disc, minimum at (0.5, 0).
        let bowl = |x: &[f64]| {
            let r2 = x[0] * x[0] + x[1] * x[1];
            if r2 >= 1.0 {
                f64::NAN
            } else {
                (x[0] - 0.5).powi(2) + x[1] * x[1] - (1.0 - r2).ln() * 1e-3
            }
        };
        let x = minimise(bowl, &[0.0, 0.9]);
        assert!(bowl(&x).is_finite());
        assert!((x[0] - 0.5).abs() < 1e-2 && x[1].abs() < 1e-2, "{x:?}");
        // No dimensions, or an infinite start: the start comes back.
        assert!(minimise(bowl, &[]).is_empty());
        assert_eq!(minimise(bowl, &[2.0, 0.0]), vec![2.0, 0.0]);
    }
}
