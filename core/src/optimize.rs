//! Derivative-free minimisers for the statistical models: a bounded
//! Nelder–Mead simplex search following statsforecast's (so that fitted
//! parameters agree with it).

/// Settings of [`nelder_mead`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NelderMead {
    /// Relative perturbation of each coordinate for the initial simplex.
    pub init_step: f64,
    /// Perturbation of a zero coordinate.
    pub zero_pert: f64,
    /// Most iterations.
    pub max_iter: usize,
    /// Stop when the standard deviation of the simplex values falls below.
    pub tol_std: f64,
}

impl Default for NelderMead {
    fn default() -> Self {
        Self {
            init_step: 0.05,
            zero_pert: 1e-4,
            max_iter: 1_000,
            tol_std: 1e-4,
        }
    }
}

/// The best point found and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// Arg-min.
    pub x: Vec<f64>,
    /// Objective at `x`.
    pub value: f64,
}

fn clamp(x: &mut [f64], lower: &[f64], upper: &[f64]) {
    for ((v, lo), hi) in x.iter_mut().zip(lower).zip(upper) {
        *v = v.clamp(*lo, *hi);
    }
}

fn std_dev(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Minimises `f` from `x0` within `[lower, upper]` (points are clamped
/// into the box) by the Nelder–Mead simplex method with reflection 1,
/// expansion 2, contraction ½ and shrink ½. A NaN objective counts as +∞.
pub fn nelder_mead(
    f: impl Fn(&[f64]) -> f64,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    settings: NelderMead,
) -> Minimum {
    let value = |x: &[f64]| {
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let n = x0.len();
    let mut start = x0.to_vec();
    clamp(&mut start, lower, upper);
    let mut simplex: Vec<Vec<f64>> = (0..=n)
        .map(|j| {
            let mut point = start.clone();
            if j < n {
                point[j] = if point[j] == 0.0 {
                    settings.zero_pert
                } else {
                    point[j] * (1.0 + settings.init_step)
                };
            }
            clamp(&mut point, lower, upper);
            point
        })
        .collect();
    let mut values: Vec<f64> = simplex.iter().map(|p| value(p)).collect();
    let mut order: Vec<usize> = (0..=n).collect();
    for _ in 0..settings.max_iter {
        order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
        let (best, worst, second) = (order[0], order[n], order[n.saturating_sub(1)]);
        if std_dev(&values) < settings.tol_std {
            break;
        }
        let mut centroid = vec![0.0; n];
        for &j in &order[..n] {
            for (c, v) in centroid.iter_mut().zip(&simplex[j]) {
                *c += v / n as f64;
            }
        }
        let towards = |from: &[f64], step: f64| -> Vec<f64> {
            let mut point: Vec<f64> = centroid
                .iter()
                .zip(from)
                .map(|(c, x)| c + step * (x - c))
                .collect();
            clamp(&mut point, lower, upper);
            point
        };
        let reflected = towards(&simplex[worst], -1.0);
        let f_r = value(&reflected);
        if values[best] <= f_r && f_r < values[second] {
            simplex[worst] = reflected;
            values[worst] = f_r;
            continue;
        }
        if f_r < values[best] {
            let expanded = towards(&reflected, 2.0);
            let f_e = value(&expanded);
            if f_e < f_r {
                simplex[worst] = expanded;
                values[worst] = f_e;
            } else {
                simplex[worst] = reflected;
                values[worst] = f_r;
            }
            continue;
        }
        if f_r < values[worst] {
            let outside = towards(&reflected, 0.5);
            let f_oc = value(&outside);
            if f_oc <= f_r {
                simplex[worst] = outside;
                values[worst] = f_oc;
                continue;
            }
        } else {
            let inside = towards(&simplex[worst], 0.5);
            let f_ic = value(&inside);
            if f_ic < values[worst] {
                simplex[worst] = inside;
                values[worst] = f_ic;
                continue;
            }
        }
        let anchor = simplex[best].clone();
        for &j in &order[1..] {
            let mut point: Vec<f64> = anchor
                .iter()
                .zip(&simplex[j])
                .map(|(b, x)| b + 0.5 * (x - b))
                .collect();
            clamp(&mut point, lower, upper);
            values[j] = value(&point);
            simplex[j] = point;
        }
    }
    let best = (0..=n)
        .min_by(|a, b| values[*a].total_cmp(&values[*b]))
        .unwrap_or(0);
    Minimum {
        x: simplex[best].clone(),
        value: values[best],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_quadratic_minimum() {
        let f = |x: &[f64]| (x[0] - 1.5).powi(2) + 3.0 * (x[1] + 0.5).powi(2);
        let settings = NelderMead {
            tol_std: 1e-14,
            ..NelderMead::default()
        };
        let min = nelder_mead(f, &[0.0, 0.0], &[-10.0; 2], &[10.0; 2], settings);
        assert!(
            (min.x[0] - 1.5).abs() < 1e-4 && (min.x[1] + 0.5).abs() < 1e-4,
            "{min:?}"
        );
        assert!(min.value < 1e-8);
    }

    #[test]
    fn respects_bounds_and_nan() {
        let f = |x: &[f64]| if x[0] > 2.0 { f64::NAN } else { -x[0] };
        let min = nelder_mead(f, &[0.5], &[0.1], &[2.0], NelderMead::default());
        assert!(min.x[0] <= 2.0 && min.x[0] > 1.9, "{min:?}");
        let min = nelder_mead(
            |x: &[f64]| x[0],
            &[0.5],
            &[0.1],
            &[0.99],
            NelderMead::default(),
        );
        assert!((min.x[0] - 0.1).abs() < 1e-3, "{min:?}");
        // A start outside the box is clamped into it.
        let min = nelder_mead(
            |x: &[f64]| x[0],
            &[5.0],
            &[0.1],
            &[0.99],
            NelderMead::default(),
        );
        assert_eq!(min.x, vec![0.99]);
    }
}
