//! Text → hashed features → normalised vector.

use std::collections::HashMap;

/// Weight of a whole-word feature; each word's 3-grams together weigh 1.
pub const WORD_WEIGHT: f32 = 0.5;

/// Common English words that carry no topic; left out of every feature.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "if", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was",
    "what", "when", "which", "with", "you",
];

/// 64-bit FNV-1a of `prefix` followed by `text`.
fn fnv1a(prefix: u8, text: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for byte in std::iter::once(prefix).chain(text.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// The lower-cased words of `text` that are not stop words.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| !STOP_WORDS.contains(&word.as_str()))
}

/// The character 3-grams of `#word#`.
fn trigrams(word: &str) -> Vec<String> {
    let marked: Vec<char> = std::iter::once('#')
        .chain(word.chars())
        .chain(std::iter::once('#'))
        .collect();
    marked
        .windows(3)
        .map(|window| window.iter().collect())
        .collect()
}

/// Adds `weight` to the signed bucket of `hash`.
fn add(vector: &mut [f32], hash: u64, weight: f32) {
    let dimension = vector.len() as u64;
    let bucket = (hash % dimension) as usize;
    let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
    vector[bucket] += sign * weight;
}

/// Embeds `text` into a `dimension`-long unit vector (all zeros when the
/// text has no words).
pub fn embed_text(text: &str, dimension: usize) -> Vec<f32> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for word in words(text) {
        *counts.entry(word).or_default() += 1;
    }
    let mut vector = vec![0.0f32; dimension.max(1)];
    for (word, count) in &counts {
        let damped = 1.0 + (*count as f32).ln();
        add(&mut vector, fnv1a(b'w', word), WORD_WEIGHT * damped);
        let grams = trigrams(word);
        let gram_weight = damped / (grams.len() as f32).sqrt();
        for gram in &grams {
            add(&mut vector, fnv1a(b'g', gram), gram_weight);
        }
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn trigrams_carry_word_boundaries() {
        assert_eq!(
            trigrams("forecast"),
            ["#fo", "for", "ore", "rec", "eca", "cas", "ast", "st#"]
        );
        assert_eq!(trigrams("a"), ["#a#"]);
    }

    #[test]
    fn vectors_are_unit_length_and_deterministic() {
        let a = embed_text("Backtesting with expanding folds", 512);
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert_eq!(a, embed_text("Backtesting with expanding folds", 512));
    }

    #[test]
    fn text_without_words_is_the_zero_vector() {
        assert!(embed_text("  -- ?! ", 128).iter().all(|x| *x == 0.0));
        assert!(embed_text("the of and", 128).iter().all(|x| *x == 0.0));
    }

    #[test]
    fn case_and_punctuation_do_not_matter() {
        let a = embed_text("Demand forecasting!", 1024);
        let b = embed_text("demand, FORECASTING", 1024);
        assert!((cosine(&a, &b) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn inflections_stay_close_and_unrelated_words_do_not() {
        let forecast = embed_text("forecast", 1024);
        let forecasting = embed_text("forecasting", 1024);
        let registry = embed_text("registry", 1024);
        let close = cosine(&forecast, &forecasting);
        // 7 shared 3-grams of 8 and 11: 7/sqrt(88)/1.25 ≈ 0.60 without collisions.
        assert!(close > 0.5, "forecast~forecasting {close}");
        assert!(cosine(&forecast, &registry).abs() < 0.2);
    }

    #[test]
    fn shared_topic_words_rank_the_matching_text_first() {
        let query = embed_text("how are model runs archived in the registry", 1024);
        let right = embed_text("Registry: archive a model run and keep its artifacts", 1024);
        let wrong = embed_text("The seeder generates synthetic sales for stores", 1024);
        assert!(cosine(&query, &right) > cosine(&query, &wrong) + 0.1);
    }

    #[test]
    fn repetition_is_damped() {
        let once = embed_text("stockout promotion", 1024);
        let many = embed_text(
            &format!("stockout {}promotion", "stockout ".repeat(20)),
            1024,
        );
        let promotion = embed_text("promotion", 1024);
        // Without damping the repeated word would push the other to ~0.
        assert!(cosine(&many, &promotion) > 0.15);
        assert!(cosine(&once, &many) > 0.75);
    }
}
