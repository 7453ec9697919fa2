//! The differencing tests of `auto.arima`: the KPSS level-stationarity
//! test for the number of plain differences (`ndiffs`, α = 5 %) and the
//! seasonal-strength heuristic for the seasonal difference (`nsdiffs`
//! with `test = "seas"`: difference once when the STL seasonal strength
//! exceeds 0.64).

/// Critical values of the KPSS level test at 10, 5, 2.5 and 1 %
/// (Kwiatkowski et al. 1992, Table 1).
const KPSS_CRITICAL: [f64; 4] = [0.347, 0.463, 0.574, 0.739];

/// Seasonal strength above which one seasonal difference is taken.
pub const SEASONAL_STRENGTH: f64 = 0.64;

/// Whether every value equals the first (within rounding).
pub fn is_constant(x: &[f64]) -> bool {
    let Some(first) = x.first() else {
        return true;
    };
    let scale = x.iter().fold(0.0_f64, |a, v| a.max(v.abs())).max(1.0);
    x.iter().all(|v| (v - first).abs() <= 1e-10 * scale)
}

/// The KPSS statistic for level stationarity of `x` with the Bartlett
/// long-run variance over `⌊3√n / 13⌋` lags (as R's `ndiffs`).
pub fn kpss_statistic(x: &[f64]) -> f64 {
    let n = x.len();
    let nf = n as f64;
    let mean = x.iter().sum::<f64>() / nf;
    let e: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let mut partial = 0.0;
    let mut eta = 0.0;
    for v in &e {
        partial += v;
        eta += partial * partial;
    }
    eta /= nf * nf;
    let lags = (3.0 * nf.sqrt() / 13.0) as usize;
    let mut variance = e.iter().map(|v| v * v).sum::<f64>() / nf;
    for l in 1..=lags.min(n.saturating_sub(1)) {
        let weight = 1.0 - l as f64 / (lags as f64 + 1.0);
        let covariance: f64 = e[l..].iter().zip(&e).map(|(a, b)| a * b).sum::<f64>() / nf;
        variance += 2.0 * weight * covariance;
    }
    eta / variance
}

/// Whether the KPSS test rejects level stationarity of `x` at 5 %.
pub fn kpss_rejects(x: &[f64]) -> bool {
    let statistic = kpss_statistic(x);
    statistic.is_finite() && statistic > KPSS_CRITICAL[1]
}

/// Number of plain differences (0 … `max_d`) that make `x` level
/// stationary by repeated KPSS tests; a constant series needs none, and
/// differencing stops before fewer than 4 values are left.
pub fn ndiffs(x: &[f64], max_d: usize) -> usize {
    let mut d = 0;
    let mut current = x.to_vec();
    while d < max_d && current.len() > 4 && !is_constant(&current) && kpss_rejects(&current) {
        current = current.windows(2).map(|v| v[1] - v[0]).collect();
        d += 1;
    }
    d
}

/// Seasonal strength `max(0, 1 − Var(R) / Var(S + R))` of an STL
/// decomposition of `x` with period `m`; `None` when `x` holds fewer than
/// two full seasons or the decomposition fails.
pub fn seasonal_strength(x: &[f64], m: usize) -> Option<f64> {
    if m < 2 || x.len() < 2 * m + 1 {
        return None;
    }
    let fit = stlrs::MstlParams::new().fit(x, &[m]).ok()?;
    fit.seasonal_strength().first().copied()
}

/// Number of seasonal differences (0 or 1) for season length `m`.
pub fn nsdiffs(x: &[f64], m: usize) -> usize {
    if is_constant(x) {
        return 0;
    }
    usize::from(seasonal_strength(x, m).is_some_and(|s| s > SEASONAL_STRENGTH))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic standard-normal-ish noise (sum of uniforms from an
    /// LCG), so the tests need no random crate.
    pub(crate) fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                let mut sum = 0.0;
                for _ in 0..12 {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    sum += (state >> 11) as f64 / (1u64 << 53) as f64;
                }
                sum - 6.0
            })
            .collect()
    }

    #[test]
    fn random_walk_needs_one_difference_white_noise_none() {
        let e = noise(300, 7);
        let walk: Vec<f64> = e
            .iter()
            .scan(0.0, |level, v| {
                *level += v;
                Some(*level)
            })
            .collect();
        assert!(kpss_statistic(&walk) > 0.739);
        assert_eq!(ndiffs(&walk, 2), 1);
        assert!(kpss_statistic(&e) < 0.463);
        assert_eq!(ndiffs(&e, 2), 0);
        // A doubly integrated walk needs two.
        let twice: Vec<f64> = walk
            .iter()
            .scan(0.0, |level, v| {
                *level += v;
                Some(*level)
            })
            .collect();
        assert_eq!(ndiffs(&twice, 2), 2);
        assert_eq!(ndiffs(&[3.0; 50], 2), 0);
    }

    #[test]
    fn weekly_pattern_gets_a_seasonal_difference() {
        let e = noise(210, 3);
        let weekly: Vec<f64> = (0..210)
            .map(|t| 20.0 + [0.0, 4.0, 6.0, 5.0, 3.0, -8.0, -10.0][t % 7] + 0.5 * e[t])
            .collect();
        assert!(seasonal_strength(&weekly, 7).unwrap() > 0.9);
        assert_eq!(nsdiffs(&weekly, 7), 1);
        assert_eq!(nsdiffs(&e, 7), 0);
        assert_eq!(nsdiffs(&weekly[..10], 7), 0);
        assert_eq!(nsdiffs(&[1.0; 40], 7), 0);
    }
}
