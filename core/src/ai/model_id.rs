//! Model identifiers of the form `provider:model-name`
//! (`anthropic:claude-sonnet-4-5`, `ollama:llama3.1:8b`).
//!
//! Parsing splits at the first colon: the part before it must be one of the
//! [`ModelProvider`]s, the rest is the provider's model name and may itself
//! contain colons (Ollama tags such as `llama3.1:8b`, OpenAI fine-tune names
//! such as `ft:gpt-4o-mini:acme::abc123`). A model name that starts with a
//! provider prefix again (`google-gla:google-gla:gemini-3-flash`) is a typo
//! that would otherwise only fail later as a 404 from the provider, so it is
//! rejected with the corrected identifier as a suggestion.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// The LLM providers a model identifier may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelProvider {
    /// Anthropic's Messages API.
    Anthropic,
    /// OpenAI's Chat Completions API.
    OpenAi,
    /// Google's Gemini API (generativelanguage, API key).
    GoogleGla,
    /// Google's Vertex AI (express mode, API key).
    GoogleVertex,
    /// A local or remote Ollama server (no key).
    Ollama,
}

impl ModelProvider {
    /// Every provider, in alphabetical order of its prefix.
    pub const ALL: [ModelProvider; 5] = [
        ModelProvider::Anthropic,
        ModelProvider::GoogleGla,
        ModelProvider::GoogleVertex,
        ModelProvider::Ollama,
        ModelProvider::OpenAi,
    ];

    /// The prefix naming this provider in a model identifier; also the name
    /// its LLM plugin registers under.
    pub const fn as_str(self) -> &'static str {
        match self {
            ModelProvider::Anthropic => "anthropic",
            ModelProvider::OpenAi => "openai",
            ModelProvider::GoogleGla => "google-gla",
            ModelProvider::GoogleVertex => "google-vertex",
            ModelProvider::Ollama => "ollama",
        }
    }

    /// The environment variable holding this provider's API key, or `None`
    /// for Ollama, which needs none (it uses `OLLAMA_BASE_URL`).
    pub const fn api_key_env(self) -> Option<&'static str> {
        match self {
            ModelProvider::Anthropic => Some("ANTHROPIC_API_KEY"),
            ModelProvider::OpenAi => Some("OPENAI_API_KEY"),
            ModelProvider::GoogleGla | ModelProvider::GoogleVertex => Some("GOOGLE_API_KEY"),
            ModelProvider::Ollama => None,
        }
    }

    /// The provider whose prefix is exactly `prefix`.
    pub fn from_prefix(prefix: &str) -> Option<ModelProvider> {
        Self::ALL
            .into_iter()
            .find(|provider| provider.as_str() == prefix)
    }

    /// The provider a user most likely meant by an unknown prefix: the same
    /// name in other case or spacing, or a common alias (`google`, `gemini`,
    /// `vertex`, `claude`, `gpt`).
    fn suggest(prefix: &str) -> Option<ModelProvider> {
        let normalized = prefix.trim().to_ascii_lowercase().replace('_', "-");
        if let Some(provider) = Self::from_prefix(&normalized) {
            return Some(provider);
        }
        match normalized.as_str() {
            "google" | "gemini" | "gla" | "google-gemini" => Some(ModelProvider::GoogleGla),
            "vertex" | "vertexai" | "vertex-ai" | "google-vertexai" => {
                Some(ModelProvider::GoogleVertex)
            }
            "claude" => Some(ModelProvider::Anthropic),
            "gpt" | "open-ai" | "chatgpt" => Some(ModelProvider::OpenAi),
            _ => None,
        }
    }
}

impl fmt::Display for ModelProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names every known provider prefix, for error messages.
fn known_prefixes() -> String {
    ModelProvider::ALL
        .iter()
        .map(|provider| provider.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A validated `provider:model-name` identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    provider: ModelProvider,
    model: String,
}

impl ModelId {
    /// Parses and validates an identifier (see the module documentation).
    /// Surrounding whitespace is ignored.
    pub fn parse(identifier: &str) -> Result<ModelId, ModelIdError> {
        let trimmed = identifier.trim();
        if trimmed.is_empty() {
            return Err(ModelIdError::Empty);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ModelIdError::InvalidCharacter {
                identifier: trimmed.to_owned(),
            });
        }
        let Some((prefix, model)) = trimmed.split_once(':') else {
            return Err(ModelIdError::MissingColon {
                identifier: trimmed.to_owned(),
            });
        };
        let Some(provider) = ModelProvider::from_prefix(prefix) else {
            return Err(ModelIdError::UnknownProvider {
                identifier: trimmed.to_owned(),
                provider: prefix.to_owned(),
                suggestion: ModelProvider::suggest(prefix)
                    .map(|provider| format!("{provider}:{}", model.trim())),
            });
        };
        let model = model.trim();
        if model.is_empty() {
            return Err(ModelIdError::BlankModel {
                identifier: trimmed.to_owned(),
                provider,
            });
        }
        if model.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ModelIdError::InvalidCharacter {
                identifier: trimmed.to_owned(),
            });
        }
        if let Some(suggestion) = innermost_identifier(model) {
            return Err(ModelIdError::NestedProvider {
                identifier: trimmed.to_owned(),
                suggestion,
            });
        }
        Ok(ModelId {
            provider,
            model: model.to_owned(),
        })
    }

    /// Builds an identifier from its parts, validating the model name as
    /// [`ModelId::parse`] would.
    pub fn new(provider: ModelProvider, model: &str) -> Result<ModelId, ModelIdError> {
        ModelId::parse(&format!("{provider}:{model}"))
    }

    /// The provider.
    pub fn provider(&self) -> ModelProvider {
        self.provider
    }

    /// The provider's model name (everything after the first colon).
    pub fn model(&self) -> &str {
        &self.model
    }
}

/// When `model` itself starts with a provider prefix (a nested identifier),
/// the identifier meant: the innermost `provider:model` whose model name no
/// longer starts with one. `None` when `model` is not nested.
fn innermost_identifier(model: &str) -> Option<String> {
    let (prefix, rest) = model.split_once(':')?;
    ModelProvider::from_prefix(prefix)?;
    let rest = rest.trim();
    Some(innermost_identifier(rest).unwrap_or_else(|| format!("{prefix}:{rest}")))
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}

impl FromStr for ModelId {
    type Err = ModelIdError;

    fn from_str(identifier: &str) -> Result<Self, Self::Err> {
        ModelId::parse(identifier)
    }
}

impl Serialize for ModelId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ModelId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let identifier = String::deserialize(deserializer)?;
        ModelId::parse(&identifier).map_err(serde::de::Error::custom)
    }
}

/// Why a model identifier was rejected. The messages are written for the
/// person who typed the identifier (they become 422 details).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelIdError {
    /// Nothing but whitespace.
    #[error(
        "Model identifier is empty: expected 'provider:model-name' \
         (e.g. 'anthropic:claude-sonnet-4-5')"
    )]
    Empty,
    /// No `:` separating provider and model.
    #[error(
        "Invalid model identifier '{identifier}': expected 'provider:model-name' \
         (e.g. 'anthropic:claude-sonnet-4-5'); known providers: {known}",
        known = known_prefixes()
    )]
    MissingColon {
        /// The identifier as given (trimmed).
        identifier: String,
    },
    /// The part before the first `:` is not a known provider.
    #[error(
        "Invalid model identifier '{identifier}': unknown provider '{provider}'; \
         known providers: {known}{hint}",
        known = known_prefixes(),
        hint = suggestion.as_ref().map(|s| format!(". Did you mean '{s}'?")).unwrap_or_default()
    )]
    UnknownProvider {
        /// The identifier as given (trimmed).
        identifier: String,
        /// The unknown prefix.
        provider: String,
        /// The identifier with the provider most likely meant, if any.
        suggestion: Option<String>,
    },
    /// Nothing (or only whitespace) after the `:`.
    #[error(
        "Invalid model identifier '{identifier}': the model name after '{provider}:' is blank"
    )]
    BlankModel {
        /// The identifier as given (trimmed).
        identifier: String,
        /// The provider that was named.
        provider: ModelProvider,
    },
    /// Whitespace or control characters inside the model name.
    #[error(
        "Invalid model identifier '{identifier}': the model name must not contain \
         whitespace or control characters",
        identifier = identifier.escape_debug()
    )]
    InvalidCharacter {
        /// The identifier as given (trimmed).
        identifier: String,
    },
    /// The model name starts with a provider prefix again.
    #[error(
        "Invalid model identifier '{identifier}': the provider prefix is nested \
         (a model name cannot start with a provider prefix). Did you mean '{suggestion}'?"
    )]
    NestedProvider {
        /// The identifier as given (trimmed).
        identifier: String,
        /// The identifier without the repeated prefix.
        suggestion: String,
    },
}

impl ModelIdError {
    /// The corrected identifier this error suggests, if any.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            ModelIdError::UnknownProvider { suggestion, .. } => suggestion.as_deref(),
            ModelIdError::NestedProvider { suggestion, .. } => Some(suggestion),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(identifier: &str) -> (ModelProvider, String) {
        let id = ModelId::parse(identifier).unwrap_or_else(|e| panic!("{identifier}: {e}"));
        (id.provider(), id.model().to_owned())
    }

    #[test]
    fn spec_examples_parse() {
        for (identifier, provider, model) in [
            (
                "anthropic:claude-sonnet-4-5",
                ModelProvider::Anthropic,
                "claude-sonnet-4-5",
            ),
            ("openai:gpt-4o", ModelProvider::OpenAi, "gpt-4o"),
            (
                "google-gla:gemini-2.5-flash",
                ModelProvider::GoogleGla,
                "gemini-2.5-flash",
            ),
            (
                "google-vertex:gemini-2.5-pro",
                ModelProvider::GoogleVertex,
                "gemini-2.5-pro",
            ),
            ("ollama:llama3.1", ModelProvider::Ollama, "llama3.1"),
        ] {
            assert_eq!(parsed(identifier), (provider, model.to_owned()));
        }
    }

    #[test]
    fn multi_colon_model_names_are_valid() {
        assert_eq!(
            parsed("ollama:llama3.1:8b"),
            (ModelProvider::Ollama, "llama3.1:8b".to_owned())
        );
        assert_eq!(
            parsed("ollama:qwen2.5:7b-instruct-q4_K_M").1,
            "qwen2.5:7b-instruct-q4_K_M"
        );
        assert_eq!(
            parsed("openai:ft:gpt-4o-mini:acme::abc123").1,
            "ft:gpt-4o-mini:acme::abc123"
        );
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(
            ModelId::parse("  openai:gpt-4o \n").unwrap().to_string(),
            "openai:gpt-4o"
        );
        assert_eq!(parsed("openai: gpt-4o").1, "gpt-4o");
    }

    #[test]
    fn missing_colon_is_rejected() {
        let error = ModelId::parse("claude-sonnet-4-5").unwrap_err();
        assert!(matches!(error, ModelIdError::MissingColon { .. }));
        let message = error.to_string();
        assert!(message.contains("'claude-sonnet-4-5'"), "{message}");
        assert!(message.contains("provider:model-name"), "{message}");
        assert!(
            message.contains("anthropic, google-gla, google-vertex, ollama, openai"),
            "{message}"
        );
    }

    #[test]
    fn empty_identifier_is_rejected() {
        assert_eq!(ModelId::parse("").unwrap_err(), ModelIdError::Empty);
        assert_eq!(ModelId::parse("   ").unwrap_err(), ModelIdError::Empty);
    }

    #[test]
    fn blank_model_name_is_rejected() {
        for identifier in ["anthropic:", "openai:   ", "ollama:\t"] {
            let error = ModelId::parse(identifier).unwrap_err();
            assert!(
                matches!(error, ModelIdError::BlankModel { .. }),
                "{identifier}: {error:?}"
            );
            assert!(error.to_string().contains("model name"), "{error}");
        }
        assert_eq!(
            ModelId::parse("anthropic:").unwrap_err().to_string(),
            "Invalid model identifier 'anthropic:': the model name after 'anthropic:' is blank"
        );
    }

    #[test]
    fn unknown_provider_is_rejected_with_the_known_list() {
        let error = ModelId::parse("mistral:large").unwrap_err();
        assert_eq!(
            error,
            ModelIdError::UnknownProvider {
                identifier: "mistral:large".into(),
                provider: "mistral".into(),
                suggestion: None,
            }
        );
        assert_eq!(
            error.to_string(),
            "Invalid model identifier 'mistral:large': unknown provider 'mistral'; \
             known providers: anthropic, google-gla, google-vertex, ollama, openai"
        );
        // An empty prefix is an unknown provider too.
        assert!(matches!(
            ModelId::parse(":gpt-4o").unwrap_err(),
            ModelIdError::UnknownProvider { .. }
        ));
    }

    #[test]
    fn near_miss_providers_get_a_suggestion() {
        for (identifier, suggestion) in [
            ("OpenAI:gpt-4o", "openai:gpt-4o"),
            ("google:gemini-2.5-flash", "google-gla:gemini-2.5-flash"),
            ("gemini:gemini-2.5-flash", "google-gla:gemini-2.5-flash"),
            (
                "google_vertex:gemini-2.5-pro",
                "google-vertex:gemini-2.5-pro",
            ),
            ("claude:claude-sonnet-4-5", "anthropic:claude-sonnet-4-5"),
        ] {
            let error = ModelId::parse(identifier).unwrap_err();
            assert_eq!(error.suggestion(), Some(suggestion), "{identifier}");
            assert!(
                error
                    .to_string()
                    .ends_with(&format!(". Did you mean '{suggestion}'?")),
                "{error}"
            );
        }
    }

    #[test]
    fn nested_provider_prefix_is_rejected_with_a_correction() {
        let error = ModelId::parse("google-gla:google-gla:gemini-3-flash").unwrap_err();
        assert_eq!(
            error,
            ModelIdError::NestedProvider {
                identifier: "google-gla:google-gla:gemini-3-flash".into(),
                suggestion: "google-gla:gemini-3-flash".into(),
            }
        );
        assert_eq!(
            error.to_string(),
            "Invalid model identifier 'google-gla:google-gla:gemini-3-flash': the provider \
             prefix is nested (a model name cannot start with a provider prefix). \
             Did you mean 'google-gla:gemini-3-flash'?"
        );
        for (identifier, suggestion) in [
            ("ollama:ollama:llama3.1:8b", "ollama:llama3.1:8b"),
            ("openai:openai:openai:gpt-4o", "openai:gpt-4o"),
            (
                "openai:anthropic:claude-sonnet-4-5",
                "anthropic:claude-sonnet-4-5",
            ),
        ] {
            assert_eq!(
                ModelId::parse(identifier).unwrap_err().suggestion(),
                Some(suggestion),
                "{identifier}"
            );
        }
    }

    #[test]
    fn whitespace_and_control_characters_inside_the_name_are_rejected() {
        for identifier in ["openai:gpt 4o", "openai:gpt-4o\u{0}", "ollama:llama\t3"] {
            assert!(
                matches!(
                    ModelId::parse(identifier).unwrap_err(),
                    ModelIdError::InvalidCharacter { .. }
                ),
                "{identifier:?}"
            );
        }
        for identifier in ["openai:gpt\u{0}4o", "open\u{0}ai:gpt-4o"] {
            let error = ModelId::parse(identifier).unwrap_err();
            assert!(
                matches!(error, ModelIdError::InvalidCharacter { .. }),
                "{identifier:?}"
            );
            assert!(!error.to_string().contains('\u{0}'), "{error:?}");
        }
    }

    #[test]
    fn display_round_trips_and_serde_uses_the_string_form() {
        let id: ModelId = "ollama:llama3.1:8b".parse().unwrap();
        assert_eq!(id.to_string(), "ollama:llama3.1:8b");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"ollama:llama3.1:8b\"");
        assert_eq!(serde_json::from_str::<ModelId>(&json).unwrap(), id);
        let error = serde_json::from_str::<ModelId>("\"gpt-4o\"").unwrap_err();
        assert!(error.to_string().contains("provider:model-name"), "{error}");
    }

    #[test]
    fn new_validates_like_parse() {
        assert_eq!(
            ModelId::new(ModelProvider::Ollama, "llama3.1:8b")
                .unwrap()
                .to_string(),
            "ollama:llama3.1:8b"
        );
        assert!(ModelId::new(ModelProvider::OpenAi, " ").is_err());
    }

    #[test]
    fn providers_know_their_prefix_and_key() {
        for provider in ModelProvider::ALL {
            assert_eq!(
                ModelProvider::from_prefix(provider.as_str()),
                Some(provider)
            );
        }
        assert_eq!(
            ModelProvider::Anthropic.api_key_env(),
            Some("ANTHROPIC_API_KEY")
        );
        assert_eq!(ModelProvider::OpenAi.api_key_env(), Some("OPENAI_API_KEY"));
        assert_eq!(
            ModelProvider::GoogleGla.api_key_env(),
            Some("GOOGLE_API_KEY")
        );
        assert_eq!(
            ModelProvider::GoogleVertex.api_key_env(),
            Some("GOOGLE_API_KEY")
        );
        assert_eq!(ModelProvider::Ollama.api_key_env(), None);
    }
}
