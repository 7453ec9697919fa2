//! Prediction intervals shared by every model: split-conformal quantiles of
//! out-of-sample errors.
//!
//! * Target-only models use **rolling-origin h-step errors**: the model is
//!   refitted on each prefix `y[..t]` of the training series (for the last
//!   origins), forecasts `H` steps, and the absolute error of step `h` is
//!   collected per step. The half-width of step `h` is the conformal quantile
//!   `⌈(m+1)·level⌉`-th smallest of the `m` errors of that step, so intervals
//!   widen with the horizon exactly as the model's own errors do.
//! * Feature-aware models use **split-conformal on a held-out tail**: they
//!   are fitted on the first part of the training rows, their errors on the
//!   held-out rows give one error sample, and step `h` uses its quantile
//!   scaled by `√h`.
//!
//! Steps with too few errors for a finite quantile are extrapolated from the
//! last step that has one (`w_h = w_k·√(h/k)`); half-widths never shrink
//! with the horizon. When no error is available at all the bounds are NaN
//! (sent as `null`).

use crate::{CoreError, PredictionInterval};

/// Checks an interval level: a number strictly between 0 and 1.
pub fn validate_level(level: f64) -> Result<(), CoreError> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(CoreError::input(format!(
            "interval_level must lie strictly between 0 and 1, got {level}"
        )))
    }
}

/// The split-conformal quantile of absolute errors: the `⌈(m+1)·level⌉`-th
/// smallest, or `None` when `m` is too small for a finite quantile.
/// Reorders `abs_errors`.
pub fn conformal_quantile(abs_errors: &mut [f64], level: f64) -> Option<f64> {
    let m = abs_errors.len();
    if m == 0 {
        return None;
    }
    let k = ((m as f64 + 1.0) * level).ceil() as usize;
    if k == 0 || k > m {
        return None;
    }
    let (_, kth, _) = abs_errors.select_nth_unstable_by(k - 1, f64::total_cmp);
    Some(*kth)
}

/// Errors of each horizon step collected from rolling origins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepErrors {
    /// `errors[h]` holds the absolute errors of step `h + 1`.
    pub errors: Vec<Vec<f64>>,
}

/// Collects rolling-origin absolute errors for steps `1..=horizon`.
///
/// Origins are the prefix lengths `t` in `[max(min_train, n − horizon −
/// max_origins), n − 1]`; for each, `forecast(&y[..t], steps)` is compared
/// with `y[t..t + steps]`. `forecast` returns `None` when it cannot forecast
/// from that prefix; such origins are skipped.
pub fn rolling_origin_errors<F>(
    y: &[f64],
    horizon: usize,
    min_train: usize,
    max_origins: usize,
    forecast: F,
) -> StepErrors
where
    F: Fn(&[f64], usize) -> Option<Vec<f64>>,
{
    let n = y.len();
    let mut errors = vec![Vec::new(); horizon];
    let first = min_train
        .max(1)
        .max(n.saturating_sub(horizon + max_origins));
    for t in first..n {
        let steps = horizon.min(n - t);
        let Some(predicted) = forecast(&y[..t], steps) else {
            continue;
        };
        for (h, (p, actual)) in predicted.iter().zip(&y[t..t + steps]).enumerate() {
            let e = (actual - p).abs();
            if e.is_finite() {
                errors[h].push(e);
            }
        }
    }
    StepErrors { errors }
}

/// Half-widths per step from per-step errors (see the module docs for the
/// extrapolation and monotonicity rules).
pub fn half_widths(step_errors: &StepErrors, horizon: usize, level: f64) -> Vec<f64> {
    let mut widths = Vec::with_capacity(horizon);
    let mut anchor: Option<(usize, f64)> = None;
    let mut previous = f64::NAN;
    for h in 0..horizon {
        let quantile = step_errors
            .errors
            .get(h)
            .and_then(|errors| conformal_quantile(&mut errors.clone(), level));
        let mut value = match (quantile, anchor) {
            (Some(q), _) => q,
            (None, Some((k, w))) => w * ((h + 1) as f64 / (k + 1) as f64).sqrt(),
            (None, None) => f64::NAN,
        };
        if previous.is_finite() && value.is_finite() {
            value = value.max(previous);
        }
        if quantile.is_some() {
            anchor = Some((h, value));
        }
        previous = value;
        widths.push(value);
    }
    widths
}

/// Half-widths from one pooled error sample (held-out one-step errors),
/// scaled by `√h`.
pub fn scaled_half_widths(abs_errors: &[f64], horizon: usize, level: f64) -> Vec<f64> {
    let base = conformal_quantile(&mut abs_errors.to_vec(), level).unwrap_or(f64::NAN);
    (1..=horizon).map(|h| base * (h as f64).sqrt()).collect()
}

/// The standard normal quantile Φ⁻¹(p) for `p` in (0, 1) (Acklam's
/// rational approximation, relative error below 1.2·10⁻⁹); ±∞ at 0 and 1,
/// NaN outside.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// A symmetric interval `point ± width`.
pub fn symmetric(point: &[f64], widths: &[f64], level: f64) -> PredictionInterval {
    PredictionInterval {
        level,
        lower: point.iter().zip(widths).map(|(p, w)| p - w).collect(),
        upper: point.iter().zip(widths).map(|(p, w)| p + w).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift) so the tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            let u1 = self.uniform().max(1e-300);
            let u2 = self.uniform();
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    #[test]
    fn normal_quantiles() {
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.95, 1.644_853_626_951_472_7),
            (0.01, -2.326_347_874_040_841),
            (0.999, 3.090_232_306_167_813_5),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-8, "{p}");
        }
        assert!(normal_quantile(1.5).is_nan());
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
    }

    #[test]
    fn quantile_rule() {
        let mut e: Vec<f64> = (1..=9).map(f64::from).collect();
        // m = 9, level 0.8: k = ceil(10 · 0.8) = 8.
        assert_eq!(conformal_quantile(&mut e, 0.8), Some(8.0));
        // level 0.95 needs k = 10 > 9 → no finite quantile.
        assert_eq!(conformal_quantile(&mut e, 0.95), None);
        assert_eq!(conformal_quantile(&mut [], 0.5), None);
    }

    #[test]
    fn widths_extrapolate_and_never_shrink() {
        let steps = StepErrors {
            errors: vec![(1..=19).map(f64::from).collect(), vec![1.0; 19], vec![]],
        };
        let w = half_widths(&steps, 4, 0.5);
        assert_eq!(w[0], 10.0);
        assert_eq!(w[1], 10.0);
        assert!((w[2] - 10.0 * (3.0_f64 / 2.0).sqrt()).abs() < 1e-12);
        assert!((w[3] - 10.0 * (4.0_f64 / 2.0).sqrt()).abs() < 1e-12);
        assert!(half_widths(&StepErrors::default(), 2, 0.9)[0].is_nan());
    }

    #[test]
    fn level_validation() {
        assert!(validate_level(0.8).is_ok());
        assert!(validate_level(1.0).is_err());
        assert!(validate_level(0.0).is_err());
        assert!(validate_level(f64::NAN).is_err());
    }

    /// Random walks forecast naively: rolling-origin conformal intervals
    /// should cover the next `h` values at close to the nominal rate.
    #[test]
    fn empirical_coverage_matches_nominal_on_random_walks() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let horizon = 7;
        for level in [0.8, 0.95] {
            let mut covered = 0usize;
            let mut total = 0usize;
            for _series in 0..400 {
                let mut y = Vec::with_capacity(300 + horizon);
                let mut value = 100.0;
                for _ in 0..300 + horizon {
                    value += rng.normal();
                    y.push(value);
                }
                let (train, test) = y.split_at(300);
                let naive = |prefix: &[f64], steps: usize| prefix.last().map(|&v| vec![v; steps]);
                let errors = rolling_origin_errors(train, horizon, 1, 200, naive);
                let widths = half_widths(&errors, horizon, level);
                let point = vec![train[train.len() - 1]; horizon];
                let interval = symmetric(&point, &widths, level);
                for (h, actual) in test.iter().enumerate() {
                    total += 1;
                    if *actual >= interval.lower[h] && *actual <= interval.upper[h] {
                        covered += 1;
                    }
                }
            }
            let coverage = covered as f64 / total as f64;
            assert!(
                (coverage - level).abs() < 0.04,
                "level {level}: empirical coverage {coverage}"
            );
        }
    }
}
