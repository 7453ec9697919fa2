//! Okapi BM25 over the chunks' words, the `lexical` retrieval mode and one
//! half of `hybrid`.

use std::collections::HashMap;

use super::search::Hit;

/// Term-frequency saturation.
const K1: f32 = 1.2;
/// Length normalisation.
const B: f32 = 0.75;

/// Words too common to rank by.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "if", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was",
    "what", "when", "which", "with", "you",
];

/// Lower-cased words of `text` (letters and digits), stop words left out.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| !STOP_WORDS.contains(&word.as_str()))
        .collect()
}

/// An inverted index of documents (rows in insertion order).
#[derive(Debug, Clone, Default)]
pub struct Bm25Index {
    lengths: Vec<u32>,
    postings: HashMap<String, Vec<(u32, u32)>>,
    total_length: u64,
}

impl Bm25Index {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a document; its row is the previous [`Bm25Index::len`].
    pub fn push(&mut self, text: &str) -> usize {
        let row = self.lengths.len();
        let words = terms(text);
        let mut counts: HashMap<String, u32> = HashMap::new();
        for word in &words {
            *counts.entry(word.clone()).or_default() += 1;
        }
        for (word, count) in counts {
            self.postings
                .entry(word)
                .or_default()
                .push((row as u32, count));
        }
        self.lengths.push(words.len() as u32);
        self.total_length += words.len() as u64;
        row
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether no document was added.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// The `k` best-scoring rows `keep` accepts for `query`, best first
    /// (only rows sharing at least one term score above zero).
    pub fn search(&self, query: &str, k: usize, keep: &dyn Fn(usize) -> bool) -> Vec<Hit> {
        let n = self.len() as f32;
        if n == 0.0 || k == 0 {
            return Vec::new();
        }
        let average = (self.total_length as f32 / n).max(1.0);
        let mut query_terms = terms(query);
        query_terms.sort();
        query_terms.dedup();
        let mut scores: HashMap<usize, f32> = HashMap::new();
        for term in &query_terms {
            let Some(postings) = self.postings.get(term) else {
                continue;
            };
            let df = postings.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(row, tf) in postings {
                let row = row as usize;
                if !keep(row) {
                    continue;
                }
                let tf = tf as f32;
                let length = self.lengths[row] as f32;
                let score = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average));
                *scores.entry(row).or_default() += score;
            }
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .map(|(row, score)| Hit { row, score })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
        hits.truncate(k);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_matching_terms_rank_first() {
        let mut index = Bm25Index::new();
        index.push("The registry stores model runs and aliases.");
        index.push("Backtesting splits the series into expanding folds.");
        index.push("The seeder writes sales; the registry is not involved.");
        let hits = index.search("How do backtesting folds work?", 5, &|_| true);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].row, 1);
        let hits = index.search("registry aliases", 5, &|_| true);
        assert_eq!(hits.iter().map(|h| h.row).collect::<Vec<_>>(), [0, 2]);
        assert!(hits[0].score > hits[1].score);
    }

    #[test]
    fn scores_follow_the_bm25_formula() {
        let mut index = Bm25Index::new();
        index.push("alpha beta");
        index.push("gamma");
        let hits = index.search("alpha", 3, &|_| true);
        // n = 2, df = 1, idf = ln(1 + 1.5/1.5) = ln 2; tf = 1, |d| = 2, avg = 1.5.
        let idf = 2.0f32.ln();
        let expected = idf * 2.2 / (1.0 + 1.2 * (0.25 + 0.75 * 2.0 / 1.5));
        assert!((hits[0].score - expected).abs() < 1e-6);
    }

    #[test]
    fn filters_and_empty_queries() {
        let mut index = Bm25Index::new();
        index.push("alpha");
        index.push("alpha alpha");
        assert_eq!(index.search("alpha", 5, &|row| row == 1)[0].row, 1);
        assert!(index.search("the of", 5, &|_| true).is_empty());
        assert!(Bm25Index::new().search("alpha", 5, &|_| true).is_empty());
        assert_eq!(terms("Hello, WORLD-wide the"), ["hello", "world", "wide"]);
    }
}
