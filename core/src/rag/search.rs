//! Exact nearest-neighbour search over unit vectors, behind the small
//! [`VectorIndex`] trait so that an approximate index could be added later
//! if it proves its recall.
//!
//! [`ExactIndex`] keeps every vector in one contiguous `f32` buffer and
//! scores a query by dot products (cosine similarity, the vectors being
//! normalised), blocks of rows in parallel with rayon, each block keeping
//! its own top k which are merged at the end. The dot product runs on eight
//! independent accumulators so the compiler can vectorise it.

use std::{cmp::Ordering, collections::BinaryHeap};

use rayon::prelude::*;

use crate::CoreError;

/// Rows scored by one rayon task.
const BLOCK_ROWS: usize = 2048;

/// One search hit: the row and its score (higher is closer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position of the vector in insertion order.
    pub row: usize,
    /// Cosine similarity to the query.
    pub score: f32,
}

/// A searchable set of vectors of one dimension.
pub trait VectorIndex: Send + Sync + std::fmt::Debug {
    /// Length of every vector.
    fn dimension(&self) -> usize;
    /// Number of vectors.
    fn len(&self) -> usize;
    /// Whether the index holds no vector.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The `k` rows closest to `query` among those `keep` accepts, best
    /// first (ties by row).
    fn search(&self, query: &[f32], k: usize, keep: &(dyn Fn(usize) -> bool + Sync)) -> Vec<Hit>;
}

/// Brute-force exact search.
#[derive(Debug, Clone, Default)]
pub struct ExactIndex {
    dimension: usize,
    data: Vec<f32>,
}

impl ExactIndex {
    /// An empty index for `dimension`-long vectors.
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension,
            data: Vec::new(),
        }
    }

    /// An empty index with room for `rows` vectors.
    pub fn with_capacity(dimension: usize, rows: usize) -> Self {
        Self {
            dimension,
            data: Vec::with_capacity(dimension * rows),
        }
    }

    /// Appends a vector; its row is the previous [`VectorIndex::len`].
    pub fn push(&mut self, vector: &[f32]) -> Result<usize, CoreError> {
        if vector.len() != self.dimension {
            return Err(CoreError::input(format!(
                "vector of length {} in an index of dimension {}",
                vector.len(),
                self.dimension
            )));
        }
        self.data.extend_from_slice(vector);
        Ok(self.len() - 1)
    }
}

/// Dot product of two equal-length slices, on eight accumulators.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in chunks_a.zip(chunks_b) {
        for lane in 0..8 {
            acc[lane] += x[lane] * y[lane];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Orders hits so that a max-heap pops the worst one first.
#[derive(Debug, PartialEq)]
struct Worst(Hit);

impl Eq for Worst {}

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then(self.0.row.cmp(&other.0.row))
    }
}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the best `k` hits seen.
fn top_k(hits: impl Iterator<Item = Hit>, k: usize) -> Vec<Hit> {
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
    for hit in hits {
        heap.push(Worst(hit));
        if heap.len() > k {
            heap.pop();
        }
    }
    let mut best: Vec<Hit> = heap.into_iter().map(|worst| worst.0).collect();
    best.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
    best
}

impl VectorIndex for ExactIndex {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn len(&self) -> usize {
        self.data.len().checked_div(self.dimension).unwrap_or(0)
    }

    fn search(&self, query: &[f32], k: usize, keep: &(dyn Fn(usize) -> bool + Sync)) -> Vec<Hit> {
        if k == 0 || query.len() != self.dimension || self.dimension == 0 {
            return Vec::new();
        }
        let dimension = self.dimension;
        let partial: Vec<Vec<Hit>> = self
            .data
            .par_chunks(dimension * BLOCK_ROWS)
            .enumerate()
            .map(|(block, rows)| {
                let first = block * BLOCK_ROWS;
                let hits = rows
                    .chunks_exact(dimension)
                    .enumerate()
                    .map(|(offset, row)| (first + offset, row))
                    .filter(|(row, _)| keep(*row))
                    .map(|(row, vector)| Hit {
                        row,
                        score: dot(query, vector),
                    });
                top_k(hits, k)
            })
            .collect();
        top_k(partial.into_iter().flatten(), k)
    }
}

/// Reciprocal rank fusion: each ranking (best first) adds `1 / (k + rank)`
/// to its rows (rank from 1); the result is sorted best first (ties by row).
/// `k` = 60 is the usual constant.
pub fn reciprocal_rank_fusion(rankings: &[Vec<usize>], k: f32) -> Vec<Hit> {
    let mut scores: std::collections::HashMap<usize, f32> = std::collections::HashMap::new();
    for ranking in rankings {
        for (rank, row) in ranking.iter().enumerate() {
            *scores.entry(*row).or_default() += 1.0 / (k + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<Hit> = scores
        .into_iter()
        .map(|(row, score)| Hit { row, score })
        .collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn dot_matches_the_naive_sum_for_every_tail_length() {
        for n in [0, 1, 7, 8, 9, 17, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "n={n}");
        }
    }

    #[test]
    fn exact_search_matches_a_full_sort_across_blocks() {
        let dimension = 16;
        let rows = BLOCK_ROWS * 2 + 37;
        let mut index = ExactIndex::with_capacity(dimension, rows);
        let mut vectors = Vec::new();
        for r in 0..rows {
            let v = unit(
                &(0..dimension)
                    .map(|d| ((r * 31 + d * 7) as f32 * 0.013).sin())
                    .collect::<Vec<_>>(),
            );
            assert_eq!(index.push(&v).unwrap(), r);
            vectors.push(v);
        }
        assert_eq!(index.len(), rows);
        let query = unit(&(0..dimension).map(|d| (d as f32).cos()).collect::<Vec<_>>());
        let hits = index.search(&query, 10, &|_| true);
        let mut expected: Vec<(usize, f32)> = vectors
            .iter()
            .enumerate()
            .map(|(row, v)| (row, dot(&query, v)))
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let expected_rows: Vec<usize> = expected[..10].iter().map(|e| e.0).collect();
        assert_eq!(
            hits.iter().map(|h| h.row).collect::<Vec<_>>(),
            expected_rows
        );
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn the_filter_and_edge_cases() {
        let mut index = ExactIndex::new(2);
        index.push(&[1.0, 0.0]).unwrap();
        index.push(&[0.0, 1.0]).unwrap();
        index.push(&[0.6, 0.8]).unwrap();
        assert!(index.push(&[1.0]).is_err());
        let hits = index.search(&[1.0, 0.0], 5, &|row| row != 0);
        assert_eq!(hits.iter().map(|h| h.row).collect::<Vec<_>>(), [2, 1]);
        assert!((hits[0].score - 0.6).abs() < 1e-6);
        assert!(index.search(&[1.0, 0.0], 0, &|_| true).is_empty());
        assert!(index.search(&[1.0], 3, &|_| true).is_empty());
        assert!(ExactIndex::new(4)
            .search(&[0.0; 4], 3, &|_| true)
            .is_empty());
    }

    #[test]
    fn rrf_rewards_rows_both_rankings_like() {
        let fused = reciprocal_rank_fusion(&[vec![1, 2, 3], vec![3, 1, 4]], 60.0);
        let rows: Vec<usize> = fused.iter().map(|h| h.row).collect();
        assert_eq!(rows, [1, 3, 2, 4]);
        assert!((fused[0].score - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-6);
    }
}
