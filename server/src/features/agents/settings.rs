//! The agents' settings (operations-ai spec §8).
//!
//! [`AgentSettings`] is read once at start-up from the environment. The
//! model settings `PATCH /config/ai` may change live (default and fallback
//! model, sampling, provider keys and base URLs) are read from
//! [`crate::features::config::live::AiRuntime`], which seeds them from
//! here.

use std::time::Duration;

use anyhow::bail;
use forecastlab_core::ai::{LlmSettings, ModelId, ModelProvider};

use crate::env::Env;

/// Default `AGENT_DEFAULT_MODEL`.
pub const DEFAULT_MODEL: &str = "anthropic:claude-sonnet-4-5";
/// Default `AGENT_FALLBACK_MODEL`.
pub const DEFAULT_FALLBACK_MODEL: &str = "openai:gpt-4o";
/// Default `OLLAMA_BASE_URL`.
pub const DEFAULT_OLLAMA_BASE_URL: &str = "http://localhost:11434";
/// The tools gated behind human approval by default.
pub const DEFAULT_REQUIRE_APPROVAL: [&str; 3] = ["create_alias", "archive_run", "save_scenario"];

/// Which model answers, how it samples, and how each provider is reached.
#[derive(Clone)]
pub struct ModelConfig {
    /// `AGENT_DEFAULT_MODEL`: the primary model.
    pub default_model: ModelId,
    /// `AGENT_FALLBACK_MODEL` (`none` for no fallback).
    pub fallback_model: Option<ModelId>,
    /// `AGENT_TEMPERATURE` (0–2).
    pub temperature: f32,
    /// `AGENT_MAX_TOKENS` (≥ 1).
    pub max_tokens: u32,
    /// `AGENT_THINKING_BUDGET` (≥ 1; unset by default).
    pub thinking_budget: Option<u32>,
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<String>,
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<String>,
    /// `GOOGLE_API_KEY` (google-gla and google-vertex).
    pub google_api_key: Option<String>,
    /// `OPENAI_BASE_URL` (beyond the upstream: a proxy or compatible
    /// endpoint; the public API when unset).
    pub openai_base_url: Option<String>,
    /// `ANTHROPIC_BASE_URL` (beyond the upstream).
    pub anthropic_base_url: Option<String>,
    /// `GOOGLE_BASE_URL` (beyond the upstream).
    pub google_base_url: Option<String>,
    /// `OLLAMA_BASE_URL`.
    pub ollama_base_url: String,
    /// Longest wait for one model turn (or each next piece of a stream):
    /// `AGENT_TIMEOUT_SECONDS`.
    pub provider_timeout: Duration,
}

impl std::fmt::Debug for ModelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |key: &Option<String>| key.as_ref().map(|_| "***");
        f.debug_struct("ModelConfig")
            .field("default_model", &self.default_model.to_string())
            .field(
                "fallback_model",
                &self.fallback_model.as_ref().map(ToString::to_string),
            )
            .field("openai_api_key", &set(&self.openai_api_key))
            .field("anthropic_api_key", &set(&self.anthropic_api_key))
            .field("google_api_key", &set(&self.google_api_key))
            .field("ollama_base_url", &self.ollama_base_url)
            .finish_non_exhaustive()
    }
}

impl ModelConfig {
    /// The key configured for `provider` (none for Ollama).
    pub fn api_key(&self, provider: ModelProvider) -> Option<&str> {
        let key = match provider {
            ModelProvider::OpenAi => &self.openai_api_key,
            ModelProvider::Anthropic => &self.anthropic_api_key,
            ModelProvider::GoogleGla | ModelProvider::GoogleVertex => &self.google_api_key,
            ModelProvider::Ollama => return None,
        };
        key.as_deref().filter(|key| !key.trim().is_empty())
    }

    /// Every configured key, for scrubbing them verbatim from anything shown.
    pub fn secrets(&self) -> Vec<String> {
        [
            &self.openai_api_key,
            &self.anthropic_api_key,
            &self.google_api_key,
        ]
        .into_iter()
        .flatten()
        .filter(|key| !key.trim().is_empty())
        .cloned()
        .collect()
    }

    /// Whether `provider` can be called: its key is set, or it needs none.
    pub fn usable(&self, provider: ModelProvider) -> bool {
        provider.api_key_env().is_none() || self.api_key(provider).is_some()
    }

    /// How to reach `provider`.
    pub fn llm_settings(&self, provider: ModelProvider) -> LlmSettings {
        let base_url = match provider {
            ModelProvider::OpenAi => self.openai_base_url.clone(),
            ModelProvider::Anthropic => self.anthropic_base_url.clone(),
            ModelProvider::GoogleGla | ModelProvider::GoogleVertex => self.google_base_url.clone(),
            ModelProvider::Ollama => Some(self.ollama_base_url.clone()),
        };
        LlmSettings {
            api_key: self.api_key(provider).map(str::to_owned),
            base_url,
            timeout: self.provider_timeout,
            connect_timeout: LlmSettings::DEFAULT_CONNECT_TIMEOUT.min(self.provider_timeout),
        }
    }
}

/// Every setting of the agents slice.
#[derive(Clone)]
pub struct AgentSettings {
    /// The model settings as read from the environment (the live ones,
    /// which `PATCH /config/ai` may change, are `AiRuntime::current`'s).
    pub models: ModelConfig,
    /// `AGENT_MAX_TOOL_CALLS`: most tool calls one message may make
    /// (enforced; pure tools are not counted).
    pub max_tool_calls: u32,
    /// `AGENT_TIMEOUT_SECONDS`: longest run of one message.
    pub timeout_seconds: u64,
    /// `AGENT_REQUIRE_APPROVAL` (JSON array of tool names).
    pub require_approval: Vec<String>,
    /// `AGENT_APPROVAL_TIMEOUT_MINUTES`: a pending action expires after
    /// this long (0 expires at once).
    pub approval_timeout_minutes: i64,
    /// `AGENT_SESSION_TTL_MINUTES`: sliding session expiry.
    pub session_ttl_minutes: i64,
    /// `AGENT_ENABLE_STREAMING`: the WebSocket streams text deltas and
    /// tool-call events; off, it sends the terminal events only.
    pub enable_streaming: bool,
}

impl std::fmt::Debug for AgentSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentSettings")
            .field("models", &self.models)
            .field("max_tool_calls", &self.max_tool_calls)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("require_approval", &self.require_approval)
            .finish_non_exhaustive()
    }
}

fn model_id(env: &Env<'_>, name: &str, default: &str) -> anyhow::Result<ModelId> {
    let raw = env.string(name, default);
    ModelId::parse(&raw).map_err(|error| anyhow::anyhow!("{name}: {error}"))
}

fn secret(env: &Env<'_>, name: &str) -> Option<String> {
    (env.0)(name).filter(|value| !value.trim().is_empty())
}

impl AgentSettings {
    /// Reads the settings; fails naming the variable on an invalid value
    /// (a model identifier that does not validate, a temperature out of
    /// 0–2, a require-approval list that is not a JSON array of strings).
    pub(crate) fn from_env(env: &Env<'_>) -> anyhow::Result<AgentSettings> {
        let default_model = model_id(env, "AGENT_DEFAULT_MODEL", DEFAULT_MODEL)?;
        let fallback_raw = env.string("AGENT_FALLBACK_MODEL", DEFAULT_FALLBACK_MODEL);
        let fallback_model = if fallback_raw.trim().eq_ignore_ascii_case("none") {
            None
        } else {
            Some(model_id(
                env,
                "AGENT_FALLBACK_MODEL",
                DEFAULT_FALLBACK_MODEL,
            )?)
        };
        let temperature: f32 = env.parse("AGENT_TEMPERATURE", 0.1)?;
        if !(0.0..=2.0).contains(&temperature) {
            bail!("AGENT_TEMPERATURE must be between 0 and 2, not {temperature}");
        }
        let max_tokens: u32 = env.parse("AGENT_MAX_TOKENS", 4096)?;
        if max_tokens == 0 {
            bail!("AGENT_MAX_TOKENS must be at least 1");
        }
        let thinking_budget: Option<u32> = env.optional("AGENT_THINKING_BUDGET")?;
        if thinking_budget == Some(0) {
            bail!("AGENT_THINKING_BUDGET must be at least 1 when set");
        }
        let timeout_seconds: u64 = env.parse("AGENT_TIMEOUT_SECONDS", 120)?;
        if timeout_seconds == 0 {
            bail!("AGENT_TIMEOUT_SECONDS must be at least 1");
        }
        let require_approval = match secret(env, "AGENT_REQUIRE_APPROVAL") {
            None => DEFAULT_REQUIRE_APPROVAL.map(str::to_owned).to_vec(),
            Some(raw) => serde_json::from_str::<Vec<String>>(&raw).map_err(|error| {
                anyhow::anyhow!(
                    "AGENT_REQUIRE_APPROVAL must be a JSON array of tool names: {error}"
                )
            })?,
        };
        let approval_timeout_minutes: i64 = env.parse("AGENT_APPROVAL_TIMEOUT_MINUTES", 60)?;
        let session_ttl_minutes: i64 = env.parse("AGENT_SESSION_TTL_MINUTES", 120)?;
        if approval_timeout_minutes < 0 || session_ttl_minutes < 0 {
            bail!("AGENT_APPROVAL_TIMEOUT_MINUTES and AGENT_SESSION_TTL_MINUTES must be ≥ 0");
        }
        Ok(AgentSettings {
            models: ModelConfig {
                default_model,
                fallback_model,
                temperature,
                max_tokens,
                thinking_budget,
                openai_api_key: secret(env, "OPENAI_API_KEY"),
                anthropic_api_key: secret(env, "ANTHROPIC_API_KEY"),
                google_api_key: secret(env, "GOOGLE_API_KEY"),
                openai_base_url: secret(env, "OPENAI_BASE_URL"),
                anthropic_base_url: secret(env, "ANTHROPIC_BASE_URL"),
                google_base_url: secret(env, "GOOGLE_BASE_URL"),
                ollama_base_url: env.string("OLLAMA_BASE_URL", DEFAULT_OLLAMA_BASE_URL),
                provider_timeout: Duration::from_secs(timeout_seconds),
            },
            max_tool_calls: env.parse("AGENT_MAX_TOOL_CALLS", 10)?,
            timeout_seconds,
            require_approval,
            approval_timeout_minutes,
            session_ttl_minutes,
            enable_streaming: env.flag("AGENT_ENABLE_STREAMING", true)?,
        })
    }

    /// Whether `tool` needs human approval.
    pub fn gated(&self, tool: &str) -> bool {
        self.require_approval.iter().any(|name| name == tool)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<AgentSettings> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let lookup = |name: &str| map.get(name).map(|value| (*value).to_owned());
        AgentSettings::from_env(&Env(&lookup))
    }

    #[test]
    fn defaults_follow_the_spec() {
        let settings = read(&[]).unwrap();
        assert_eq!(settings.models.default_model.to_string(), DEFAULT_MODEL);
        assert_eq!(
            settings.models.fallback_model.as_ref().unwrap().to_string(),
            DEFAULT_FALLBACK_MODEL
        );
        assert_eq!(settings.max_tool_calls, 10);
        assert_eq!(settings.timeout_seconds, 120);
        assert_eq!(settings.approval_timeout_minutes, 60);
        assert_eq!(settings.session_ttl_minutes, 120);
        assert_eq!(settings.require_approval, DEFAULT_REQUIRE_APPROVAL);
        assert!(settings.gated("archive_run") && !settings.gated("list_runs"));
        assert!((settings.models.temperature - 0.1).abs() < 1e-6);
        assert_eq!(settings.models.max_tokens, 4096);
        assert_eq!(settings.models.ollama_base_url, DEFAULT_OLLAMA_BASE_URL);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let nested = read(&[(
            "AGENT_DEFAULT_MODEL",
            "google-gla:google-gla:gemini-3-flash",
        )]);
        let message = nested.unwrap_err().to_string();
        assert!(message.starts_with("AGENT_DEFAULT_MODEL:"), "{message}");
        assert!(message.contains("google-gla:gemini-3-flash"), "{message}");
        let message = read(&[("AGENT_TEMPERATURE", "3")]).unwrap_err().to_string();
        assert!(message.contains("AGENT_TEMPERATURE"), "{message}");
        let message = read(&[("AGENT_REQUIRE_APPROVAL", "archive_run")])
            .unwrap_err()
            .to_string();
        assert!(message.contains("AGENT_REQUIRE_APPROVAL"), "{message}");
    }

    #[test]
    fn keys_select_usable_providers_and_never_print() {
        let settings = read(&[
            ("OPENAI_API_KEY", "sk-test-0123456789"),
            ("AGENT_FALLBACK_MODEL", "none"),
            ("AGENT_REQUIRE_APPROVAL", "[\"archive_run\"]"),
        ])
        .unwrap();
        let models = &settings.models;
        assert!(models.fallback_model.is_none());
        assert!(models.usable(ModelProvider::OpenAi));
        assert!(models.usable(ModelProvider::Ollama));
        assert!(!models.usable(ModelProvider::Anthropic));
        assert_eq!(models.secrets(), ["sk-test-0123456789"]);
        assert_eq!(
            models
                .llm_settings(ModelProvider::Ollama)
                .base_url
                .as_deref(),
            Some(DEFAULT_OLLAMA_BASE_URL)
        );
        assert!(!format!("{settings:?}").contains("sk-test"));
        assert!(!settings.gated("create_alias"));
    }
}
