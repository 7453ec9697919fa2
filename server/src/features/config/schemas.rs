//! Request and response types of `/config`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::extract::{Validate, Violations};

/// The keys `PATCH /config/ai` may change and `app_config` may hold
/// (spec §6.1), in the order of the response.
pub const OVERRIDE_KEYS: [&str; 13] = [
    "agent_default_model",
    "agent_fallback_model",
    "agent_temperature",
    "agent_max_tokens",
    "agent_thinking_budget",
    "rag_embedding_provider",
    "rag_embedding_model",
    "rag_embedding_dimension",
    "ollama_base_url",
    "ollama_embedding_model",
    "openai_api_key",
    "anthropic_api_key",
    "google_api_key",
];

/// Largest `agent_max_tokens` / `agent_thinking_budget`.
pub const MAX_COUNT: u64 = i32::MAX as u64;

/// The keys whose values are secrets.
pub const SECRET_KEYS: [&str; 3] = ["openai_api_key", "anthropic_api_key", "google_api_key"];

/// Whether a cloud provider's key is set, and its masked form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyStatus {
    /// `openai`, `anthropic` or `google`.
    #[schema(pattern = "^(openai|anthropic|google)$")]
    pub provider: String,
    /// Whether a non-empty key is configured.
    pub is_set: bool,
    /// First 7 and last 4 characters (`…` between), or `…` and the last 4
    /// for keys of at most 11 characters; null when unset.
    pub masked: Option<String>,
}

/// `GET /config/ai`: the AI settings in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AiConfigResponse {
    /// Primary agent model (`provider:model`).
    pub agent_default_model: String,
    /// Fallback agent model; null when there is none.
    pub agent_fallback_model: Option<String>,
    /// Sampling temperature (0–2).
    pub agent_temperature: f64,
    /// Most tokens per model answer.
    pub agent_max_tokens: u32,
    /// Gemini thinking budget; null when unset.
    pub agent_thinking_budget: Option<u32>,
    /// `lexical`, `openai`, `ollama` or `local`.
    pub rag_embedding_provider: String,
    /// OpenAI embedding model.
    pub rag_embedding_model: String,
    /// Vector length.
    pub rag_embedding_dimension: u64,
    /// Ollama server.
    pub ollama_base_url: String,
    /// Ollama embedding model.
    pub ollama_embedding_model: String,
    /// Cloud provider keys, masked: openai, anthropic, google.
    pub api_keys: Vec<ApiKeyStatus>,
    /// Allow-listed keys currently persisted as overrides, sorted.
    pub overridden_keys: Vec<String>,
}

/// `PATCH /config/ai`: any of the runtime settings. Null fields are
/// ignored; at least one non-null field is required (400 otherwise).
/// Types are strict: no numbers in strings, no integers for booleans.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiConfigPatch {
    /// `provider:model` (providers anthropic, openai, google-gla,
    /// google-vertex, ollama; Ollama tags may contain colons). A nested
    /// prefix such as `google-gla:google-gla:x` is a 422 with the fix.
    #[schema(min_length = 1, max_length = 200)]
    pub agent_default_model: Option<String>,
    /// As `agent_default_model`, or `none` for no fallback.
    #[schema(min_length = 1, max_length = 200)]
    pub agent_fallback_model: Option<String>,
    /// 0–2.
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub agent_temperature: Option<f64>,
    /// 1–2,147,483,647.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub agent_max_tokens: Option<u64>,
    /// 1–2,147,483,647.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub agent_thinking_budget: Option<u64>,
    /// Embedding provider.
    #[schema(pattern = "^(lexical|openai|ollama|local)$")]
    pub rag_embedding_provider: Option<String>,
    /// OpenAI embedding model (1–200 of `A-Z a-z 0-9 . _ : / @ + -`).
    #[schema(pattern = "^[A-Za-z0-9._:/@+-]{1,200}$")]
    pub rag_embedding_model: Option<String>,
    /// ≥ 1. Changing it while chunks are indexed is a 409 unless `force`.
    #[schema(minimum = 1, maximum = 16384)]
    pub rag_embedding_dimension: Option<u64>,
    /// `http://` or `https://` URL of the Ollama server.
    #[schema(pattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")]
    pub ollama_base_url: Option<String>,
    /// Ollama embedding model (1–200 of `A-Z a-z 0-9 . _ : / @ + -`).
    #[schema(pattern = "^[A-Za-z0-9._:/@+-]{1,200}$")]
    pub ollama_embedding_model: Option<String>,
    /// OpenAI key (write-only; empty clears it).
    #[schema(max_length = 500)]
    pub openai_api_key: Option<String>,
    /// Anthropic key (write-only; empty clears it).
    #[schema(max_length = 500)]
    pub anthropic_api_key: Option<String>,
    /// Google key (write-only; empty clears it).
    #[schema(max_length = 500)]
    pub google_api_key: Option<String>,
    /// Allow a dimension change while chunks are indexed.
    #[serde(default)]
    pub force: Option<bool>,
}

impl AiConfigPatch {
    /// The non-null settings as `(key, JSON value)`, in allow-list order.
    pub fn changes(&self) -> Vec<(&'static str, Value)> {
        let text = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        let candidates: [(&'static str, Option<Value>); 13] = [
            ("agent_default_model", text(&self.agent_default_model)),
            ("agent_fallback_model", text(&self.agent_fallback_model)),
            ("agent_temperature", self.agent_temperature.map(Value::from)),
            ("agent_max_tokens", self.agent_max_tokens.map(Value::from)),
            (
                "agent_thinking_budget",
                self.agent_thinking_budget.map(Value::from),
            ),
            ("rag_embedding_provider", text(&self.rag_embedding_provider)),
            ("rag_embedding_model", text(&self.rag_embedding_model)),
            (
                "rag_embedding_dimension",
                self.rag_embedding_dimension.map(Value::from),
            ),
            ("ollama_base_url", text(&self.ollama_base_url)),
            ("ollama_embedding_model", text(&self.ollama_embedding_model)),
            ("openai_api_key", text(&self.openai_api_key)),
            ("anthropic_api_key", text(&self.anthropic_api_key)),
            ("google_api_key", text(&self.google_api_key)),
        ];
        candidates
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| (key, value)))
            .collect()
    }
}

fn model_id(v: &mut Violations, field: &str, value: &Option<String>, none_allowed: bool) {
    let Some(value) = value else { return };
    v.length(field, value, 1, 200);
    if none_allowed && value.trim().eq_ignore_ascii_case("none") {
        return;
    }
    if let Err(error) = forecastlab_core::ai::ModelId::parse(value) {
        v.push(field, error.to_string(), "value_error");
    }
}

fn model_name(v: &mut Violations, field: &str, value: &Option<String>) {
    let Some(value) = value else { return };
    v.length(field, value, 1, 200);
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._:/@+-".contains(c))
    {
        v.push(
            field,
            "may only contain letters, digits and . _ : / @ + -",
            "string_pattern_mismatch",
        );
    }
}

/// Whether `url` matches the `ollama_base_url` pattern.
pub fn valid_base_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port.is_none_or(|p| (1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._~/-".contains(c))
}

impl Validate for AiConfigPatch {
    fn validate(&self, v: &mut Violations) {
        model_id(v, "agent_default_model", &self.agent_default_model, false);
        model_id(v, "agent_fallback_model", &self.agent_fallback_model, true);
        if let Some(t) = self.agent_temperature {
            v.range("agent_temperature", t, 0.0, 2.0);
        }
        if let Some(n) = self.agent_max_tokens {
            v.range("agent_max_tokens", n, 1, MAX_COUNT);
        }
        if let Some(n) = self.agent_thinking_budget {
            v.range("agent_thinking_budget", n, 1, MAX_COUNT);
        }
        if let Some(provider) = &self.rag_embedding_provider {
            v.one_of(
                "rag_embedding_provider",
                provider,
                &crate::features::rag::settings::PROVIDERS,
            );
        }
        model_name(v, "rag_embedding_model", &self.rag_embedding_model);
        model_name(v, "ollama_embedding_model", &self.ollama_embedding_model);
        if let Some(n) = self.rag_embedding_dimension {
            v.range("rag_embedding_dimension", n, 1, 16_384);
        }
        if let Some(url) = &self.ollama_base_url {
            if !valid_base_url(url) {
                v.push(
                    "ollama_base_url",
                    "must be an http:// or https:// URL",
                    "string_pattern_mismatch",
                );
            }
        }
        for (field, key) in [
            ("openai_api_key", &self.openai_api_key),
            ("anthropic_api_key", &self.anthropic_api_key),
            ("google_api_key", &self.google_api_key),
        ] {
            if let Some(key) = key {
                v.length(field, key, 0, 500);
            }
        }
    }
}

/// One provider's reachability.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderHealth {
    /// `ollama`, `openai`, `anthropic` or `google`.
    pub provider: String,
    /// Ollama: answered `/api/tags`; cloud providers: a key is set.
    pub reachable: bool,
    /// What was found.
    pub detail: String,
    /// Ollama's pulled models (empty for cloud providers).
    pub models: Vec<String>,
}

/// One model pulled into Ollama.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OllamaModel {
    /// Model name (`name`, else `model`, else `unknown`).
    pub name: String,
    /// Size on disk in bytes; null when Ollama does not say.
    pub size_bytes: Option<u64>,
    /// Model family; null when Ollama does not say.
    pub family: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_follow_the_documented_pattern() {
        for ok in [
            "http://localhost:11434",
            "https://ollama.internal/api-proxy/",
            "http://10.0.0.2",
        ] {
            assert!(valid_base_url(ok), "{ok}");
        }
        for bad in [
            "ftp://x",
            "http://",
            "http://host:port",
            "localhost:11434",
            "http://a b",
            "http://x:123456",
        ] {
            assert!(!valid_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn changes_skip_nulls_and_keep_allow_list_order() {
        let patch = AiConfigPatch {
            rag_embedding_dimension: Some(768),
            agent_temperature: Some(0.5),
            force: Some(true),
            ..Default::default()
        };
        let keys: Vec<_> = patch.changes().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["agent_temperature", "rag_embedding_dimension"]);
        assert!(AiConfigPatch::default().changes().is_empty());
    }
}
