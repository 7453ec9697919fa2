//! The core of ForecastLab: the plugin traits every model, feature group,
//! embedder and LLM backend implements, the registries they submit
//! themselves to, and the shared numeric building blocks.
//!
//! Plugins live in their own crates and register with [`inventory`]:
//!
//! ```ignore
//! inventory::submit! {
//!     forecastlab_core::ModelRegistration { name: "naive", /* … */ }
//! }
//! ```
//!
//! The server only ever looks models up through [`models()`] and
//! [`model()`]; it never names a model itself.

pub mod ai;
pub mod artifact;
pub mod backtest;
pub mod calibration;
pub mod error;
pub mod explain;
pub mod features;
pub mod forecast;
pub mod frame;
pub mod global;
pub mod interval;
pub mod lifecycle;
pub mod linalg;
pub mod metrics;
pub mod model;
pub mod model_config;
pub mod optimize;
pub mod rag;
pub mod seasonal_base;
pub mod series;
pub mod smoothing;
pub mod supervised;
pub mod target_only;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tree_model;
pub mod tree_shap;
pub mod wrmsse;

pub use ai::{
    build_llm, embedder, embedders, llm, llms, EmbedderRegistration, EmbeddingProvider, LlmError,
    LlmProvider, LlmRegistration, LlmSettings, ModelId, ModelProvider, ProviderSettings,
};
pub use error::CoreError;
pub use features::{
    feature_group, feature_groups, FeatureGroup, FeatureGroupRegistration, FeatureSpec,
    FeatureTable,
};
pub use forecast::{Forecast, PredictionInterval};
pub use model::{
    model, models, FittedModel, Forecaster, ModelRegistration, PredictRequest, TrainingData,
};
pub use series::{FeatureMatrix, SeriesKey};

/// Re-exported so plugin crates can name families and input kinds.
pub use forecastlab_model_taxonomy as taxonomy;
/// Re-exported so plugin crates need not depend on `inventory` directly.
pub use inventory;
