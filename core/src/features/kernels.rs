//! Columnar kernels over one series' contiguous slice. All of them are
//! time-safe by construction: the value written at row `i` reads input rows
//! `< i` only (`lag_into` with `k ≥ 1`, `shifted_rolling_into`).

use std::collections::VecDeque;

use super::spec::Aggregation;

/// `out[i] = values[i − k]`, NaN for the first `k` rows. `k` must be ≥ 1
/// for time safety (a lag of 0 would copy the current row).
pub fn lag_into(values: &[f64], k: usize, out: &mut [f64]) {
    debug_assert_eq!(values.len(), out.len());
    let n = values.len();
    let k = k.min(n);
    out[..k].fill(f64::NAN);
    out[k..].copy_from_slice(&values[..n - k]);
}

/// `out[i] = value(i − k)`, NaN for the first `k` rows: [`lag_into`] of a
/// daily value computed on the fly instead of from a slice. `k` must be ≥ 1
/// for time safety when `value` reads the target.
pub fn lag_from(k: usize, out: &mut [f64], value: impl Fn(usize) -> f64) {
    let k = k.min(out.len());
    out[..k].fill(f64::NAN);
    for (i, slot) in out[k..].iter_mut().enumerate() {
        *slot = value(i);
    }
}

/// Replaces each NaN by the last non-NaN value before it (leading NaNs
/// stay), as pandas' `ffill`.
pub fn forward_fill(values: &mut [f64]) {
    let mut last = f64::NAN;
    for value in values {
        if value.is_nan() {
            *value = last;
        } else {
            last = *value;
        }
    }
}

/// Rolling aggregation of the one-row-shifted input: `out[i]` aggregates
/// the non-null values of rows `i − w … i − 1` (clipped at row 0), and is
/// NaN unless at least `min_periods` of them are non-null. Mean, sum and
/// standard deviation run in O(n) ([`shifted_moments_into`]); min and max
/// with a monotonic deque.
pub fn shifted_rolling_into(
    values: &[f64],
    window: usize,
    min_periods: usize,
    aggregation: Aggregation,
    out: &mut [f64],
) {
    debug_assert_eq!(values.len(), out.len());
    match aggregation {
        Aggregation::Mean => shifted_moments_into(
            values,
            window,
            min_periods,
            Moments {
                mean: Some(out),
                ..Moments::default()
            },
        ),
        Aggregation::Sum => shifted_moments_into(
            values,
            window,
            min_periods,
            Moments {
                sum: Some(out),
                ..Moments::default()
            },
        ),
        Aggregation::Std => shifted_moments_into(
            values,
            window,
            min_periods,
            Moments {
                std: Some(out),
                ..Moments::default()
            },
        ),
        Aggregation::Min | Aggregation::Max => {
            extremes(
                values,
                window,
                min_periods,
                aggregation == Aggregation::Max,
                out,
            );
        }
    }
}

/// Output columns of [`shifted_moments_into`]; `None` = not wanted.
#[derive(Debug, Default)]
pub struct Moments<'a> {
    /// Rolling mean.
    pub mean: Option<&'a mut [f64]>,
    /// Rolling sample standard deviation.
    pub std: Option<&'a mut [f64]>,
    /// Rolling sum.
    pub sum: Option<&'a mut [f64]>,
}

/// Rolling mean, sample standard deviation and sum of the one-row-shifted
/// input in one O(n) pass. Running sums are refreshed exactly from the
/// window every `max(w, 32)` rows (so drift is bounded and the mean of
/// integer data is exact); the variance uses sums of deviations from the
/// series' first value (the shifted-data algorithm).
pub fn shifted_moments_into(values: &[f64], w: usize, min_periods: usize, out: Moments<'_>) {
    let mut empty_mean: [f64; 0] = [];
    let mut empty_std: [f64; 0] = [];
    let mut empty_sum: [f64; 0] = [];
    let (want_mean, want_std, want_sum) =
        (out.mean.is_some(), out.std.is_some(), out.sum.is_some());
    let mean = out.mean.unwrap_or(&mut empty_mean);
    let std = out.std.unwrap_or(&mut empty_std);
    let sum = out.sum.unwrap_or(&mut empty_sum);
    // Monomorphised per combination so the per-row loop has no branches on
    // which outputs are wanted.
    match (want_mean, want_std, want_sum) {
        (true, true, true) => moments::<true, true, true>(values, w, min_periods, mean, std, sum),
        (true, true, false) => moments::<true, true, false>(values, w, min_periods, mean, std, sum),
        (true, false, true) => moments::<true, false, true>(values, w, min_periods, mean, std, sum),
        (true, false, false) => {
            moments::<true, false, false>(values, w, min_periods, mean, std, sum)
        }
        (false, true, true) => moments::<false, true, true>(values, w, min_periods, mean, std, sum),
        (false, true, false) => {
            moments::<false, true, false>(values, w, min_periods, mean, std, sum)
        }
        (false, false, true) => {
            moments::<false, false, true>(values, w, min_periods, mean, std, sum)
        }
        (false, false, false) => {}
    }
}

#[allow(clippy::needless_range_loop)] // index arithmetic over the window
fn moments<const MEAN: bool, const STD: bool, const SUM: bool>(
    values: &[f64],
    w: usize,
    min_periods: usize,
    mean: &mut [f64],
    std: &mut [f64],
    total: &mut [f64],
) {
    let min_periods = min_periods.max(1);
    let reference = values.iter().copied().find(|v| !v.is_nan()).unwrap_or(0.0);
    let (mut count, mut sum, mut d1, mut d2) = (0usize, 0.0f64, 0.0f64, 0.0f64);
    // Running sums are recomputed exactly from the window every `refresh`
    // rows, so rounding drift never outlives a window (no compensated
    // summation on the hot path).
    let refresh = w.max(32);
    let mut next_refresh = refresh;
    for i in 0..values.len() {
        if i == next_refresh {
            next_refresh += refresh;
            let window = &values[i.saturating_sub(w + 1)..i - 1];
            count = 0;
            sum = 0.0;
            d1 = 0.0;
            d2 = 0.0;
            for x in window.iter().copied().filter(|x| !x.is_nan()) {
                count += 1;
                sum += x;
                let d = x - reference;
                d1 += d;
                d2 += d * d;
            }
        }
        if i >= 1 {
            let x = values[i - 1];
            if !x.is_nan() {
                count += 1;
                sum += x;
                if STD {
                    let d = x - reference;
                    d1 += d;
                    d2 += d * d;
                }
            }
            if i > w {
                let old = values[i - 1 - w];
                if !old.is_nan() {
                    count -= 1;
                    if count == 0 {
                        sum = 0.0;
                        d1 = 0.0;
                        d2 = 0.0;
                    } else {
                        sum -= old;
                        if STD {
                            let d = old - reference;
                            d1 -= d;
                            d2 -= d * d;
                        }
                    }
                }
            }
        }
        let ready = count >= min_periods;
        if MEAN {
            mean[i] = if ready { sum / count as f64 } else { f64::NAN };
        }
        if SUM {
            total[i] = if ready { sum } else { f64::NAN };
        }
        if STD {
            std[i] = if ready && count >= 2 {
                let n = count as f64;
                ((d2 - d1 * d1 / n) / (n - 1.0)).max(0.0).sqrt()
            } else {
                f64::NAN
            };
        }
    }
}

#[allow(clippy::needless_range_loop)] // index arithmetic over the window
fn extremes(values: &[f64], w: usize, min_periods: usize, max: bool, out: &mut [f64]) {
    let min_periods = min_periods.max(1);
    let mut deque: VecDeque<usize> = VecDeque::with_capacity(w + 1);
    let mut count = 0usize;
    let better = |a: f64, b: f64| if max { a >= b } else { a <= b };
    for i in 0..values.len() {
        if i >= 1 {
            let j = i - 1;
            let x = values[j];
            if !x.is_nan() {
                count += 1;
                while deque.back().is_some_and(|&b| better(x, values[b])) {
                    deque.pop_back();
                }
                deque.push_back(j);
            }
            if i > w {
                let old = i - 1 - w;
                if !values[old].is_nan() {
                    count -= 1;
                }
                while deque.front().is_some_and(|&f| f <= old) {
                    deque.pop_front();
                }
            }
        }
        out[i] = match deque.front() {
            Some(&front) if count >= min_periods => values[front],
            _ => f64::NAN,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(values: &[f64], w: usize, min_periods: usize, aggregation: Aggregation) -> Vec<f64> {
        (0..values.len())
            .map(|i| {
                let start = i.saturating_sub(w);
                let window: Vec<f64> = values[start..i]
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                if window.len() < min_periods.max(1) {
                    return f64::NAN;
                }
                let n = window.len() as f64;
                let mean = window.iter().sum::<f64>() / n;
                match aggregation {
                    Aggregation::Mean => mean,
                    Aggregation::Sum => window.iter().sum(),
                    Aggregation::Min => window.iter().copied().fold(f64::INFINITY, f64::min),
                    Aggregation::Max => window.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    Aggregation::Std => {
                        if window.len() < 2 {
                            f64::NAN
                        } else {
                            (window.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0))
                                .sqrt()
                        }
                    }
                }
            })
            .collect()
    }

    #[test]
    fn rolling_matches_a_direct_computation() {
        let values = [
            3.0,
            1.0,
            f64::NAN,
            4.0,
            1.0,
            5.0,
            9.0,
            2.0,
            6.0,
            f64::NAN,
            5.0,
            3.0,
        ];
        for aggregation in [
            Aggregation::Mean,
            Aggregation::Sum,
            Aggregation::Std,
            Aggregation::Min,
            Aggregation::Max,
        ] {
            for w in 1..6 {
                for min_periods in 1..=w {
                    let mut out = vec![0.0; values.len()];
                    shifted_rolling_into(&values, w, min_periods, aggregation, &mut out);
                    let expected = naive(&values, w, min_periods, aggregation);
                    for (a, b) in out.iter().zip(&expected) {
                        assert!(
                            (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-9,
                            "{aggregation:?} w={w} mp={min_periods}: {out:?} vs {expected:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn long_windows_survive_the_periodic_refresh() {
        let values: Vec<f64> = (0..300)
            .map(|i| {
                if i % 37 == 5 {
                    f64::NAN
                } else {
                    ((i * 7919) % 101) as f64 * 0.37 + 1e4
                }
            })
            .collect();
        for aggregation in [Aggregation::Mean, Aggregation::Sum, Aggregation::Std] {
            for w in [1, 7, 28, 31, 32, 33, 90] {
                for min_periods in [1, w] {
                    let mut out = vec![0.0; values.len()];
                    shifted_rolling_into(&values, w, min_periods, aggregation, &mut out);
                    let expected = naive(&values, w, min_periods, aggregation);
                    for (i, (a, b)) in out.iter().zip(&expected).enumerate() {
                        assert!(
                            (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                            "{aggregation:?} w={w} mp={min_periods} row {i}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lag_shifts_and_pads_with_nan() {
        let mut out = [0.0; 4];
        lag_into(&[1.0, 2.0, 3.0, 4.0], 2, &mut out);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(&out[2..], &[1.0, 2.0]);
        lag_into(&[1.0, 2.0, 3.0, 4.0], 9, &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn lag_from_matches_lag_into() {
        let values = [1.0, f64::NAN, 3.0, 4.0, 5.0];
        for k in 0..7 {
            let (mut direct, mut computed) = ([0.0; 5], [0.0; 5]);
            lag_into(&values, k, &mut direct);
            lag_from(k, &mut computed, |i| values[i]);
            assert_eq!(format!("{direct:?}"), format!("{computed:?}"), "k={k}");
        }
    }

    #[test]
    fn forward_fill_keeps_leading_nan() {
        let mut values = [f64::NAN, 1.0, f64::NAN, f64::NAN, 2.0, f64::NAN];
        forward_fill(&mut values);
        assert!(values[0].is_nan());
        assert_eq!(&values[1..], &[1.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
