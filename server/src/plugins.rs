//! Links the plugin crates in. A plugin's `inventory` registrations are only
//! kept when its crate is referenced, so each enabled plugin has one line
//! here.

// Always-on models.
use forecastlab_model_moving_average as _;
use forecastlab_model_naive as _;
use forecastlab_model_prophet_like as _;
use forecastlab_model_regression as _;
use forecastlab_model_seasonal_average as _;
use forecastlab_model_seasonal_naive as _;
use forecastlab_model_trend_regression as _;
use forecastlab_model_weighted_moving_average as _;

// The statistical zoo (always on, pure Rust).
use forecastlab_model_adida as _;
use forecastlab_model_auto_arima as _;
use forecastlab_model_auto_ets as _;
use forecastlab_model_croston as _;
use forecastlab_model_croston_sba as _;
use forecastlab_model_imapa as _;
use forecastlab_model_mstl as _;
use forecastlab_model_optimized_theta as _;
use forecastlab_model_theta as _;
use forecastlab_model_tsb as _;

// LLM backends (agents): all four always, so any build can talk to any
// provider; which one is used is a setting.
use forecastlab_llm_anthropic as _;
use forecastlab_llm_gemini as _;
use forecastlab_llm_ollama as _;
use forecastlab_llm_openai as _;

// Opt-in models: compiled in by the server's Cargo features of the same
// name, and usable only when their runtime flag is on.
#[cfg(feature = "lightgbm")]
use forecastlab_model_lightgbm as _;
#[cfg(feature = "random-forest")]
use forecastlab_model_random_forest as _;
#[cfg(feature = "xgboost")]
use forecastlab_model_xgboost as _;

// Embedders: the model-free default and the two HTTP providers (plain
// reqwest clients), always linked.
use forecastlab_embed_lexical as _;
use forecastlab_embed_ollama as _;
use forecastlab_embed_openai as _;

// Opt-in embedder: the `local` one pulls ONNX Runtime and the tokenizer in,
// so it is compiled in by the server's `local-embedder` feature.
#[cfg(feature = "local-embedder")]
use forecastlab_embed_local as _;

#[cfg(test)]
mod tests {
    use forecastlab_core::ai::{llm, ModelProvider};

    #[test]
    fn every_model_provider_has_a_linked_llm_backend() {
        for provider in ModelProvider::ALL {
            let registration = llm(provider).unwrap_or_else(|| panic!("{provider} is not linked"));
            assert_eq!(registration.provider, provider);
        }
    }
}
