//! The seeded random streams every generator draws from (see the
//! determinism notes of [`super::engine`]), and the draws they share.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Named streams of the seeded generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Stream {
    Stores = 1,
    Products = 2,
    ProductLifecycle = 3,
    Prices = 4,
    Promotions = 5,
    Bundles = 6,
    Sparsity = 7,
    StoreLevel = 8,
    ProductLevel = 9,
    Series = 10,
    Stockout = 11,
    Weather = 12,
    Macro = 13,
    Returns = 14,
    Replenishment = 15,
    Channel = 16,
    Phase2Lifecycle = 17,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for one stream of `seed`.
pub(crate) fn stream_rng(seed: u64, stream: Stream, a: i64, b: i64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let id = splitmix(splitmix(splitmix(stream as u64) ^ a as u64) ^ (b as u64).rotate_left(17));
    rng.set_stream(id);
    rng
}

pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// Log-normal factor with mean 1.
pub(crate) fn mean_one_lognormal(rng: &mut ChaCha8Rng, sigma: f64) -> f64 {
    (normal(rng) * sigma - sigma * sigma / 2.0).exp()
}

/// `floor(x)` plus one with probability `frac(x)`: unbiased integer units,
/// zero-heavy for slow movers.
pub(crate) fn stochastic_round(rng: &mut ChaCha8Rng, x: f64) -> i64 {
    if !x.is_finite() || x <= 0.0 {
        return 0;
    }
    let base = x.floor();
    let frac = x - base;
    let extra = if frac > 0.0 && rng.gen::<f64>() < frac {
        1.0
    } else {
        0.0
    };
    (base + extra).min(1e9) as i64
}

/// `x` cents rounded half to even.
pub(crate) fn round_cents(x: f64) -> i64 {
    x.round_ties_even() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stochastic_rounding_is_unbiased() {
        let mut rng = stream_rng(1, Stream::Series, 0, 0);
        let total: i64 = (0..20_000).map(|_| stochastic_round(&mut rng, 0.3)).sum();
        let mean = total as f64 / 20_000.0;
        assert!((mean - 0.3).abs() < 0.02, "{mean}");
        assert_eq!(stochastic_round(&mut rng, f64::NAN), 0);
        assert_eq!(stochastic_round(&mut rng, 4.0), 4);
    }

    #[test]
    fn streams_are_deterministic_and_independent() {
        let a: Vec<u32> = (0..4)
            .map(|_| stream_rng(7, Stream::Series, 1, 2).gen())
            .collect();
        let b: Vec<u32> = (0..4)
            .map(|_| stream_rng(7, Stream::Series, 1, 2).gen())
            .collect();
        assert_eq!(a, b);
        let x: u64 = stream_rng(7, Stream::Series, 1, 2).gen();
        let y: u64 = stream_rng(7, Stream::Series, 2, 1).gen();
        let z: u64 = stream_rng(8, Stream::Series, 1, 2).gen();
        assert_ne!(x, y);
        assert_ne!(x, z);
    }
}
