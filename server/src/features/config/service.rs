//! Runtime AI configuration (spec §6): read, patch, persist and apply the
//! allow-listed settings; probe the providers.

use std::time::Duration;

use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    live::{EmbeddingConfig, LiveConfig},
    repo::{self, GenerationChange},
    schemas::{
        AiConfigPatch, AiConfigResponse, ApiKeyStatus, OllamaModel, ProviderHealth, OVERRIDE_KEYS,
    },
};
use crate::{features::rag::generations, problem::Problem, state::AppState};

/// Masks a key per spec §6.2: empty → none; ≤ 11 characters → `…` and the
/// last 4; else the first 7, `…`, the last 4.
pub fn mask(key: Option<&str>) -> Option<String> {
    let key = key.filter(|key| !key.is_empty())?;
    let chars: Vec<char> = key.chars().collect();
    let last4: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    if chars.len() <= 11 {
        Some(format!("…{last4}"))
    } else {
        let first7: String = chars[..7].iter().collect();
        Some(format!("{first7}…{last4}"))
    }
}

/// A temperature as the decimal it was written as (0.1, not 0.10000000149).
fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

fn response(config: &LiveConfig, overridden: Vec<String>) -> AiConfigResponse {
    let models = &config.models;
    let key = |provider: &str, value: &Option<String>| ApiKeyStatus {
        provider: provider.to_owned(),
        is_set: value.as_deref().is_some_and(|key| !key.is_empty()),
        masked: mask(value.as_deref()),
    };
    AiConfigResponse {
        agent_default_model: models.default_model.to_string(),
        agent_fallback_model: models.fallback_model.as_ref().map(ToString::to_string),
        agent_temperature: decimal(models.temperature),
        agent_max_tokens: models.max_tokens,
        agent_thinking_budget: models.thinking_budget,
        rag_embedding_provider: config.embedding.provider.clone(),
        rag_embedding_model: config.embedding.model.clone(),
        rag_embedding_dimension: config.embedding.dimension as u64,
        ollama_base_url: models.ollama_base_url.clone(),
        ollama_embedding_model: config.embedding.ollama_model.clone(),
        api_keys: vec![
            key("openai", &models.openai_api_key),
            key("anthropic", &models.anthropic_api_key),
            key("google", &models.google_api_key),
        ],
        overridden_keys: overridden,
    }
}

async fn overridden_keys(state: &AppState) -> Result<Vec<String>, Problem> {
    Ok(repo::overrides(&state.db)
        .await?
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| OVERRIDE_KEYS.contains(&key.as_str()))
        .collect())
}

/// Applies the persisted overrides onto the live settings (at start-up).
/// A value that no longer validates is skipped with a warning naming the
/// key (never the value).
pub async fn load_overrides(state: &AppState) -> Result<(), sqlx::Error> {
    let mut config = state.ai.current();
    for (key, value) in repo::overrides(&state.db).await? {
        if !OVERRIDE_KEYS.contains(&key.as_str()) {
            continue;
        }
        if let Err(reason) = config.apply(&key, &value) {
            tracing::warn!(%key, %reason, "ignoring a persisted AI setting");
        }
    }
    state.ai.replace(config);
    Ok(())
}

/// What changing the embedder from `before` to `after` does to the RAG
/// generations: with chunks of `before` and nothing pinned, `before` is
/// pinned as serving until a re-index completes; with a pinned embedder,
/// the chunks `before` had started to get are dropped, and the pin too
/// when `after` is the pinned embedder again.
async fn generation_change(
    state: &AppState,
    before: &EmbeddingConfig,
    after: &EmbeddingConfig,
) -> Result<GenerationChange, Problem> {
    let mut change = GenerationChange::default();
    if before.generation() == after.generation() {
        return Ok(change);
    }
    let (label, dimension) = before.generation();
    match generations::pinned(&state.db).await? {
        None => {
            if generations::chunks_of(&state.db, &label, dimension).await? > 0 {
                change.pin = Some((generations::SERVING_KEY, generations::pin_value(before)));
            }
        }
        Some(serving) => {
            if serving.generation() != before.generation() {
                change.purge = Some((label, dimension as i32));
            }
            if serving.generation() == after.generation() {
                change.unpin = Some(generations::SERVING_KEY);
            }
        }
    }
    Ok(change)
}

/// `GET /config/ai`.
pub async fn get(state: &AppState) -> Result<AiConfigResponse, Problem> {
    let overridden = overridden_keys(state).await?;
    Ok(response(&state.ai.current(), overridden))
}

/// `PATCH /config/ai` (spec §6.2 steps 1–4).
pub async fn patch(state: &AppState, body: AiConfigPatch) -> Result<AiConfigResponse, Problem> {
    let changes = body.changes();
    if changes.is_empty() {
        return Err(Problem::bad_request(
            "No configuration fields provided to update.",
        ));
    }
    let current = state.ai.current();
    if let Some(dimension) = body.rag_embedding_dimension {
        if dimension as usize != current.embedding.dimension && body.force != Some(true) {
            let chunks = repo::chunk_count(&state.db).await?;
            if chunks > 0 {
                return Err(Problem::conflict(format!(
                    "Changing the embedding dimension with {chunks} indexed RAG chunk(s) breaks \
                     retrieval. Delete the RAG sources first, or resend the request with \
                     force=true."
                )));
            }
        }
    }
    let mut next = current.clone();
    for (key, value) in &changes {
        next.apply(key, value)
            .map_err(|reason| Problem::invalid_field(*key, reason, "value_error"))?;
    }
    let generation = generation_change(state, &current.embedding, &next.embedding).await?;
    repo::upsert(&state.db, &changes, &generation).await?;
    state.ai.replace(next);
    let keys: Vec<&str> = changes.iter().map(|(key, _)| *key).collect();
    tracing::info!(keys = ?keys, "AI configuration changed");
    get(state).await
}

#[derive(Debug, Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<TagModel>,
}

#[derive(Debug, Deserialize)]
struct TagModel {
    name: Option<String>,
    model: Option<String>,
    size: Option<u64>,
    details: Option<TagDetails>,
}

#[derive(Debug, Deserialize)]
struct TagDetails {
    family: Option<String>,
}

/// `GET {ollama}/api/tags` (10 s, 5 s to connect).
async fn ollama_tags(base_url: &str) -> Result<Vec<OllamaModel>, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|error| error.to_string())?;
    let url = format!("{}/api/tags", base_url.trim_end_matches('/'));
    let response = client.get(&url).send().await.map_err(|error| {
        let mut text = if error.is_timeout() {
            "timed out".to_owned()
        } else if error.is_connect() {
            "connection failed".to_owned()
        } else {
            "request failed".to_owned()
        };
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    let tags: Tags = response
        .json()
        .await
        .map_err(|_| "the answer is not Ollama's /api/tags JSON".to_owned())?;
    Ok(tags
        .models
        .into_iter()
        .map(|model| OllamaModel {
            name: model
                .name
                .or(model.model)
                .unwrap_or_else(|| "unknown".to_owned()),
            size_bytes: model.size,
            family: model.details.and_then(|details| details.family),
        })
        .collect())
}

/// `GET /config/providers/health`: Ollama probed live, cloud providers by
/// key presence.
pub async fn providers_health(state: &AppState) -> Vec<ProviderHealth> {
    let config = state.ai.current();
    let base_url = config.models.ollama_base_url.clone();
    let ollama = match ollama_tags(&base_url).await {
        Ok(models) => ProviderHealth {
            provider: "ollama".into(),
            reachable: true,
            detail: format!("Reachable at {base_url} ({} model(s) pulled)", models.len()),
            models: models.into_iter().map(|model| model.name).collect(),
        },
        Err(error) => ProviderHealth {
            provider: "ollama".into(),
            reachable: false,
            detail: format!("Not reachable at {base_url}: {error}"),
            models: Vec::new(),
        },
    };
    let cloud = |provider: &str, key: &Option<String>| {
        let set = key.as_deref().is_some_and(|key| !key.trim().is_empty());
        ProviderHealth {
            provider: provider.to_owned(),
            reachable: set,
            detail: if set {
                "API key configured"
            } else {
                "API key not set"
            }
            .to_owned(),
            models: Vec::new(),
        }
    };
    vec![
        ollama,
        cloud("openai", &config.models.openai_api_key),
        cloud("anthropic", &config.models.anthropic_api_key),
        cloud("google", &config.models.google_api_key),
    ]
}

/// `GET /config/ollama/models`; 502 when Ollama cannot be reached.
pub async fn ollama_models(state: &AppState) -> Result<Vec<OllamaModel>, Problem> {
    let base_url = state.ai.current().models.ollama_base_url;
    ollama_tags(&base_url).await.map_err(|error| {
        Problem::new(
            StatusCode::BAD_GATEWAY,
            "OLLAMA_UNREACHABLE",
            format!(
                "Could not reach Ollama at {base_url}: {error}. Ensure 'ollama serve' is running."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_follows_the_spec() {
        assert_eq!(mask(None), None);
        assert_eq!(mask(Some("")), None);
        assert_eq!(mask(Some("abc")).as_deref(), Some("…abc"));
        assert_eq!(mask(Some("sk-12345678")).as_deref(), Some("…5678"));
        assert_eq!(mask(Some("sk-123456789")).as_deref(), Some("sk-1234…6789"));
        assert_eq!(
            mask(Some("sk-proj-abcdefghijklmnop")).as_deref(),
            Some("sk-proj…mnop")
        );
    }

    #[test]
    fn temperatures_read_as_written() {
        assert_eq!(decimal(0.1), 0.1);
        assert_eq!(decimal(1.5), 1.5);
    }
}
