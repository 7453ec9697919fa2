//! Exact vector search speed against the machine's memory bandwidth.
//!
//! `cargo bench -p forecastlab-core --bench vector_search` fills an
//! [`ExactIndex`] with 100,000 random unit vectors of 384 dimensions
//! (override with `SEARCH_BENCH_ROWS`, `SEARCH_BENCH_DIM`,
//! `SEARCH_BENCH_REPS`), then times, median of the repetitions:
//!
//! - **bound**: one parallel pass that only sums the same buffer (every
//!   byte read once, rayon across the cores) — the memory-bandwidth floor
//!   of any exact search;
//! - **search**: a top-10 search for a random query.
//!
//! It prints both, the bandwidth they imply and their ratio.

use std::time::Instant;

use forecastlab_core::rag::{ExactIndex, VectorIndex};
use rayon::prelude::*;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit_vector(state: &mut u64, dim: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dim)
        .map(|_| (splitmix(state) >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// Sum on eight accumulators (vectorised like the dot product).
fn sum(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for lane in 0..8 {
            acc[lane] += chunk[lane];
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let rows = env_usize("SEARCH_BENCH_ROWS", 100_000);
    let dim = env_usize("SEARCH_BENCH_DIM", 384);
    let reps = env_usize("SEARCH_BENCH_REPS", 31);
    let mut state = 7u64;
    let mut index = ExactIndex::with_capacity(dim, rows);
    let mut flat: Vec<f32> = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        let v = unit_vector(&mut state, dim);
        flat.extend_from_slice(&v);
        index.push(&v).expect("dimension");
    }
    let bytes = (rows * dim * 4) as f64;
    let mut bound = Vec::new();
    let mut search = Vec::new();
    let mut sink = 0.0f32;
    for _ in 0..reps {
        let start = Instant::now();
        sink += flat.par_chunks(dim * 2048).map(sum).sum::<f32>();
        bound.push(start.elapsed().as_secs_f64() * 1000.0);

        let query = unit_vector(&mut state, dim);
        let start = Instant::now();
        let hits = index.search(&query, 10, &|_| true);
        search.push(start.elapsed().as_secs_f64() * 1000.0);
        sink += hits[0].score;
    }
    let (bound, search) = (median(bound), median(search));
    println!(
        "vector_search: {rows} x {dim} ({:.1} MB), {} threads, median of {reps}",
        bytes / 1e6,
        rayon::current_num_threads()
    );
    println!(
        "  bound  (sum pass): {bound:8.2} ms  ({:.1} GB/s)",
        bytes / bound / 1e6
    );
    println!(
        "  search (top 10)  : {search:8.2} ms  ({:.1} GB/s)",
        bytes / search / 1e6
    );
    println!(
        "  ratio search/bound: {:.2}  (checksum {sink:.1})",
        search / bound
    );
}
