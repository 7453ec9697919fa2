//! The `lexical` embedding provider: a model-free, key-free embedder that
//! works offline, so that a fresh install can index and search its own
//! documentation with nothing configured.
//!
//! A text becomes a bag of features, hashed into a fixed number of
//! dimensions with a sign bit (the "hashing trick"), then L2-normalised:
//!
//! - every word (lower-cased run of letters and digits, English stop words
//!   left out) with weight [`WORD_WEIGHT`];
//! - the character 3-grams of the word wrapped in boundary markers
//!   (`#forecast#` → `#fo`, `for`, …, `st#`), scaled so that each word's
//!   3-grams together weigh 1. Inflections share most of their 3-grams
//!   ("forecast" and "forecasting" share 7 of 8), so they land close
//!   together even though their word features differ.
//!
//! Term frequencies are damped (`1 + ln tf`) so that a word repeated many
//! times does not drown the rest. Hashing is FNV-1a, fixed and portable, so
//! vectors are stable across runs, machines and releases.

mod features;

use async_trait::async_trait;
use forecastlab_core::{
    ai::{EmbedderRegistration, EmbeddingProvider, ProviderSettings},
    CoreError,
};

pub use features::{embed_text, WORD_WEIGHT};

/// Vector length when the settings give none.
pub const DEFAULT_DIMENSION: usize = 1024;
/// Smallest dimension accepted (small ones work, with many collisions).
pub const MIN_DIMENSION: usize = 1;
/// Largest dimension accepted.
pub const MAX_DIMENSION: usize = 16_384;

/// The hashed n-gram embedder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexicalEmbedder {
    dimension: usize,
}

impl LexicalEmbedder {
    /// An embedder making `dimension`-long vectors
    /// ([`MIN_DIMENSION`]..=[`MAX_DIMENSION`]).
    pub fn new(dimension: usize) -> Result<Self, CoreError> {
        if !(MIN_DIMENSION..=MAX_DIMENSION).contains(&dimension) {
            return Err(CoreError::config(format!(
                "the lexical embedder needs a dimension between {MIN_DIMENSION} and \
                 {MAX_DIMENSION}, not {dimension}"
            )));
        }
        Ok(Self { dimension })
    }

    /// Embeds one text (synchronous; cheap, linear in the text length).
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        embed_text(text, self.dimension)
    }
}

#[async_trait]
impl EmbeddingProvider for LexicalEmbedder {
    fn name(&self) -> &'static str {
        "lexical"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    /// Runs on a blocking thread: a large document is real CPU work.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CoreError> {
        let texts = texts.to_vec();
        let dimension = self.dimension;
        tokio::task::spawn_blocking(move || {
            texts
                .iter()
                .map(|text| embed_text(text, dimension))
                .collect()
        })
        .await
        .map_err(|error| CoreError::provider(format!("the lexical embedder stopped: {error}")))
    }
}

fn build(settings: &ProviderSettings) -> Result<Box<dyn EmbeddingProvider>, CoreError> {
    Ok(Box::new(LexicalEmbedder::new(
        settings.dimension.unwrap_or(DEFAULT_DIMENSION),
    )?))
}

forecastlab_core::inventory::submit! {
    EmbedderRegistration { name: "lexical", build }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dimension_is_checked() {
        assert!(LexicalEmbedder::new(0).is_err());
        assert!(LexicalEmbedder::new(MAX_DIMENSION + 1).is_err());
        assert_eq!(LexicalEmbedder::new(384).unwrap().dimension(), 384);
    }

    #[test]
    fn it_registers_and_builds_from_settings() {
        let registration = forecastlab_core::ai::embedder("lexical").expect("registered");
        let default = (registration.build)(&ProviderSettings::default()).unwrap();
        assert_eq!(default.dimension(), DEFAULT_DIMENSION);
        let sized = (registration.build)(&ProviderSettings {
            dimension: Some(256),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(sized.dimension(), 256);
        assert_eq!(sized.name(), "lexical");
    }

    #[tokio::test]
    async fn a_batch_comes_back_in_order() {
        let embedder = LexicalEmbedder::new(256).unwrap();
        let texts = vec!["demand forecasting".to_owned(), "model registry".to_owned()];
        let vectors = embedder.embed(&texts).await.unwrap();
        assert_eq!(vectors.len(), 2);
        assert_eq!(vectors[0], embedder.embed_one("demand forecasting"));
        assert_eq!(vectors[1], embedder.embed_one("model registry"));
    }
}
