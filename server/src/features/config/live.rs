//! The AI settings in force now (spec §6): the agents' model settings and
//! the embedder's, seeded from the environment at start, overlaid with the
//! overrides persisted in `app_config`, and replaced live by
//! `PATCH /config/ai`. The built embedder and the agents' model chain are
//! cached here and dropped on every change, so the next RAG call or agent
//! message builds them from the new settings (and every message until
//! then reuses the providers' HTTP clients and their open connections).

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex, PoisonError, RwLock,
};

use forecastlab_core::{
    ai::{EmbeddingProvider, ModelId, ProviderSettings},
    CoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    config::Settings,
    features::{
        agents::{chain::ModelChain, settings::ModelConfig},
        rag::settings::RagSettings,
    },
    problem::Problem,
};

/// The embedder's runtime-editable settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingConfig {
    /// `rag_embedding_provider`.
    pub provider: String,
    /// `rag_embedding_model` (OpenAI's model).
    pub model: String,
    /// `rag_embedding_dimension`.
    pub dimension: usize,
    /// `ollama_embedding_model`.
    pub ollama_model: String,
}

impl EmbeddingConfig {
    /// The model actually run by the provider.
    pub fn effective_model(&self) -> &str {
        match self.provider.as_str() {
            "openai" => &self.model,
            "ollama" => &self.ollama_model,
            "local" => "all-MiniLM-L6-v2",
            _ => "hashed-ngrams",
        }
    }

    /// The name stored beside each vector: `provider:model`. Vectors are
    /// only compared with vectors of the same name and dimension.
    pub fn label(&self) -> String {
        format!("{}:{}", self.provider, self.effective_model())
    }

    /// The generation its vectors belong to: `(label, dimension)`. Two
    /// configurations of the same generation make comparable vectors.
    pub fn generation(&self) -> (String, usize) {
        (self.label(), self.dimension)
    }
}

/// Every runtime-editable AI setting.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The agents' models, sampling and provider keys.
    pub models: ModelConfig,
    /// The embedder.
    pub embedding: EmbeddingConfig,
}

impl LiveConfig {
    /// The settings at start-up, from the environment.
    pub fn from_settings(settings: &Settings) -> LiveConfig {
        LiveConfig {
            models: settings.agents.models.clone(),
            embedding: EmbeddingConfig {
                provider: settings.rag.embedding_provider.clone(),
                model: settings.rag.embedding_model.clone(),
                dimension: settings.rag.embedding_dimension,
                ollama_model: settings.rag.ollama_embedding_model.clone(),
            },
        }
    }

    /// How to build the configured embedder.
    pub fn provider_settings(&self, rag: &RagSettings) -> ProviderSettings {
        let embedding = &self.embedding;
        let (base_url, api_key, model) = match embedding.provider.as_str() {
            "openai" => (
                self.models.openai_base_url.clone(),
                self.models.openai_api_key.clone(),
                embedding.model.clone(),
            ),
            "ollama" => (
                Some(self.models.ollama_base_url.clone()),
                None,
                embedding.ollama_model.clone(),
            ),
            _ => (None, None, String::new()),
        };
        ProviderSettings {
            base_url,
            api_key,
            model,
            dimension: Some(embedding.dimension),
            batch_size: Some(rag.embedding_batch_size),
            timeout: None,
            retry_base_delay: Some(rag.embedding_retry_base),
        }
    }

    /// Sets one allow-listed key from its JSON value; the message says why
    /// a value is refused. (Values are validated by the PATCH body first;
    /// this also guards values read back from the database.)
    pub fn apply(&mut self, key: &str, value: &Value) -> Result<(), String> {
        let text = || {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{key} must be a string"))
        };
        let positive = || {
            value
                .as_u64()
                .filter(|n| *n >= 1 && *n <= u64::from(u32::MAX))
                .ok_or_else(|| format!("{key} must be an integer ≥ 1"))
        };
        let secret = |raw: String| Some(raw).filter(|key| !key.trim().is_empty());
        match key {
            "agent_default_model" => {
                self.models.default_model = ModelId::parse(&text()?).map_err(|e| e.to_string())?;
            }
            "agent_fallback_model" => {
                let raw = text()?;
                self.models.fallback_model = if raw.trim().eq_ignore_ascii_case("none") {
                    None
                } else {
                    Some(ModelId::parse(&raw).map_err(|e| e.to_string())?)
                };
            }
            "agent_temperature" => {
                let t = value
                    .as_f64()
                    .filter(|t| (0.0..=2.0).contains(t))
                    .ok_or("agent_temperature must be a number between 0 and 2")?;
                self.models.temperature = t as f32;
            }
            "agent_max_tokens" => self.models.max_tokens = positive()? as u32,
            "agent_thinking_budget" => self.models.thinking_budget = Some(positive()? as u32),
            "rag_embedding_provider" => {
                let provider = text()?;
                if !crate::features::rag::settings::PROVIDERS.contains(&provider.as_str()) {
                    return Err(format!("unknown embedding provider {provider:?}"));
                }
                self.embedding.provider = provider;
            }
            "rag_embedding_model" => self.embedding.model = text()?,
            "rag_embedding_dimension" => self.embedding.dimension = positive()? as usize,
            "ollama_base_url" => self.models.ollama_base_url = text()?,
            "ollama_embedding_model" => self.embedding.ollama_model = text()?,
            "openai_api_key" => self.models.openai_api_key = secret(text()?),
            "anthropic_api_key" => self.models.anthropic_api_key = secret(text()?),
            "google_api_key" => self.models.google_api_key = secret(text()?),
            other => return Err(format!("{other} is not a runtime setting")),
        }
        Ok(())
    }
}

/// Embedders built so far, with the settings each was built from.
type Built = Vec<(EmbeddingConfig, Arc<dyn EmbeddingProvider>)>;

/// The live AI settings and the embedders and model chain built from them.
#[derive(Debug)]
pub struct AiRuntime {
    config: RwLock<LiveConfig>,
    embedders: Mutex<Built>,
    /// Bumped (under the `config` write lock) by every [`AiRuntime::replace`].
    revision: AtomicU64,
    /// The agents' chain and the revision of the settings it was built from.
    agent_chain: Mutex<Option<(u64, Arc<ModelChain>)>>,
}

impl AiRuntime {
    /// The runtime at start-up (before persisted overrides are applied).
    pub fn new(settings: &Settings) -> AiRuntime {
        AiRuntime {
            config: RwLock::new(LiveConfig::from_settings(settings)),
            embedders: Mutex::new(Vec::new()),
            revision: AtomicU64::new(0),
            agent_chain: Mutex::new(None),
        }
    }

    /// A copy of the settings in force.
    pub fn current(&self) -> LiveConfig {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `config` in force and drops the cached embedders and chain.
    pub fn replace(&self, config: LiveConfig) {
        let mut current = self.config.write().unwrap_or_else(PoisonError::into_inner);
        *current = config;
        self.revision.fetch_add(1, Ordering::SeqCst);
        drop(current);
        self.embedders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        *self
            .agent_chain
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The agents' model chain for the settings in force: built on first
    /// use after a change, then shared by every message. Fails with the
    /// chain's 400 when the primary model cannot be built (nothing is
    /// cached then).
    pub(crate) fn agent_chain(&self) -> Result<Arc<ModelChain>, Problem> {
        let (revision, models) = {
            let config = self.config.read().unwrap_or_else(PoisonError::into_inner);
            (self.revision.load(Ordering::SeqCst), config.models.clone())
        };
        let mut cached = self
            .agent_chain
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((built_at, chain)) = cached.as_ref() {
            if *built_at == revision {
                return Ok(chain.clone());
            }
        }
        let chain = Arc::new(ModelChain::build(models)?);
        *cached = Some((revision, chain.clone()));
        Ok(chain)
    }

    /// The configured embedder (built on first use after a change) and
    /// the settings it was built from.
    pub fn embedder(
        &self,
        rag: &RagSettings,
    ) -> Result<(Arc<dyn EmbeddingProvider>, EmbeddingConfig), CoreError> {
        let embedding = self.current().embedding;
        Ok((self.embedder_for(rag, &embedding)?, embedding))
    }

    /// The embedder of `embedding` (which may differ from the configured
    /// one: the generation still serving while a re-index runs), with the
    /// provider URLs and keys in force; built on first use after a change.
    pub fn embedder_for(
        &self,
        rag: &RagSettings,
        embedding: &EmbeddingConfig,
    ) -> Result<Arc<dyn EmbeddingProvider>, CoreError> {
        let mut config = self.current();
        let mut built = self
            .embedders
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, embedder)) = built.iter().find(|(made, _)| made == embedding) {
            return Ok(embedder.clone());
        }
        config.embedding = embedding.clone();
        let name = embedding.provider.as_str();
        let registration = forecastlab_core::ai::embedder(name).ok_or_else(|| {
            CoreError::provider(format!(
                "the `{name}` embedder is not compiled into this build (see the README, \
                 \"RAG\": the `local` one needs the `local-embedder` feature)"
            ))
        })?;
        let embedder: Arc<dyn EmbeddingProvider> =
            Arc::from((registration.build)(&config.provider_settings(rag))?);
        built.push((embedding.clone(), embedder.clone()));
        Ok(embedder)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn live() -> LiveConfig {
        let settings = Settings::from_lookup(|_| None).unwrap();
        LiveConfig::from_settings(&settings)
    }

    #[test]
    fn labels_name_the_model_that_runs() {
        let mut config = live();
        assert_eq!(config.embedding.label(), "lexical:hashed-ngrams");
        config
            .apply("rag_embedding_provider", &json!("ollama"))
            .unwrap();
        assert_eq!(config.embedding.label(), "ollama:nomic-embed-text");
        config
            .apply("rag_embedding_provider", &json!("openai"))
            .unwrap();
        config
            .apply("rag_embedding_model", &json!("text-embedding-3-large"))
            .unwrap();
        assert_eq!(config.embedding.label(), "openai:text-embedding-3-large");
    }

    #[test]
    fn apply_validates_and_sets_every_key() {
        let mut config = live();
        config
            .apply("agent_default_model", &json!("ollama:llama3.1:8b"))
            .unwrap();
        assert_eq!(
            config.models.default_model.to_string(),
            "ollama:llama3.1:8b"
        );
        config
            .apply("agent_fallback_model", &json!("none"))
            .unwrap();
        assert!(config.models.fallback_model.is_none());
        config.apply("agent_temperature", &json!(1.5)).unwrap();
        config.apply("agent_thinking_budget", &json!(2048)).unwrap();
        config.apply("openai_api_key", &json!("sk-abc")).unwrap();
        assert_eq!(config.models.openai_api_key.as_deref(), Some("sk-abc"));
        config.apply("openai_api_key", &json!("")).unwrap();
        assert_eq!(config.models.openai_api_key, None);
        for (key, bad) in [
            (
                "agent_default_model",
                json!("google-gla:google-gla:gemini-3-flash"),
            ),
            ("agent_temperature", json!(2.5)),
            ("agent_max_tokens", json!(0)),
            ("rag_embedding_provider", json!("cohere")),
            ("rag_embedding_dimension", json!("384")),
            ("unknown_key", json!(1)),
        ] {
            assert!(config.apply(key, &bad).is_err(), "{key}={bad}");
        }
    }

    #[test]
    fn the_embedder_is_cached_until_the_settings_change() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        let runtime = AiRuntime::new(&settings);
        let (first, config) = runtime.embedder(&settings.rag).unwrap();
        assert_eq!(first.name(), "lexical");
        assert_eq!(first.dimension(), config.dimension);
        let (again, _) = runtime.embedder(&settings.rag).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let mut changed = runtime.current();
        changed
            .apply("rag_embedding_dimension", &json!(256))
            .unwrap();
        runtime.replace(changed);
        let (rebuilt, _) = runtime.embedder(&settings.rag).unwrap();
        assert_eq!(rebuilt.dimension(), 256);
    }
}
