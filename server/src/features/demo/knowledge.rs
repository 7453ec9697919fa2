//! The knowledge phase of the showcase: probe the embedding provider,
//! index the project documentation, retrieve from it. The RAG and config
//! routes may be absent from a build or unconfigured: the steps then skip
//! and the run stays green. Every outcome is recorded as a `rag_events`
//! entry.

use chrono::Utc;
use serde_json::{json, Value};

use super::{
    client::CallError,
    run::{Outcome, Run, StepResult},
    schemas::StepStatus,
};

/// The question of the retrieve probe.
const QUESTION: &str = "How do I run the demo pipeline?";

fn record(run: &mut Run, event: &str, outcome: &Outcome, count: Option<u64>) {
    run.rag_events.push(json!({
        "event": event, "status": outcome.status, "detail": outcome.detail, "count": count,
        "provider_state": if run.embedding_reachable { "reachable" } else { "unreachable" },
        "occurred_at": Utc::now(),
    }));
}

/// A call that fails because the piece is missing or unconfigured: the
/// route does not exist (404), the provider refused the key (401/403,
/// 502) or is unavailable (503).
fn unavailable(error: &CallError) -> bool {
    matches!(error.status(), Some(401 | 403 | 404 | 502 | 503))
}

/// Step 18 (always passes): which embedding provider is configured and
/// whether it can be used.
pub async fn probe(run: &mut Run) -> StepResult {
    let (provider, reachable, detail) = match run.client.get("/config/ai").await {
        Ok(config) => {
            let provider = config["rag_embedding_provider"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned();
            let reachable = match provider.as_str() {
                "openai" => config["api_keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["provider"] == "openai" && k["is_set"] == true),
                "ollama" => match run.client.get("/config/providers/health").await {
                    Ok(health) => health
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["provider"] == "ollama" && p["reachable"] == true),
                    Err(_) => false,
                },
                // In-process embedders need no key.
                _ => true,
            };
            (
                Value::from(provider.clone()),
                reachable,
                format!("provider {provider}, reachable={reachable}"),
            )
        }
        Err(error) => (
            Value::Null,
            false,
            format!("no embedding configuration: {error}"),
        ),
    };
    run.embedding_reachable = reachable;
    let outcome = Outcome::new(
        StepStatus::Pass,
        detail,
        json!({"provider": provider, "reachable": reachable}),
    );
    record(run, "probe", &outcome, None);
    Ok(outcome)
}

/// Step 19: index the project's README (this repository's user guide).
pub async fn index(run: &mut Run) -> StepResult {
    let outcome = if !run.embedding_reachable {
        Outcome::skip("embedding provider unreachable")
    } else {
        let body = json!({"include_docs": false, "include_prps": false, "include_root": true});
        match run.client.post("/rag/index/project-docs", &body).await {
            Ok(result) => {
                let keys = [
                    "total_files",
                    "indexed",
                    "updated",
                    "unchanged",
                    "failed",
                    "total_chunks",
                ];
                let mut data = serde_json::Map::new();
                for key in keys {
                    data.insert(key.into(), result[key].clone());
                }
                Outcome::new(
                    StepStatus::Pass,
                    format!(
                        "{} files, {} chunks",
                        result["total_files"], result["total_chunks"]
                    ),
                    Value::Object(data),
                )
            }
            Err(error) if unavailable(&error) => {
                Outcome::skip(format!("indexing unavailable: {error}"))
            }
            Err(error) => return Err(error.into()),
        }
    };
    let count = outcome.data.get("total_chunks").and_then(Value::as_u64);
    record(run, "index", &outcome, count);
    Ok(outcome)
}

/// Step 20: retrieve an answer to a demo question; no hit is a warning.
pub async fn retrieve(run: &mut Run) -> StepResult {
    let outcome = if !run.embedding_reachable {
        Outcome::skip("embedding provider unreachable")
    } else {
        match run
            .client
            .post("/rag/retrieve", &json!({"query": QUESTION, "top_k": 3}))
            .await
        {
            Ok(result) => {
                let hits = result["results"].as_array().map_or(0, Vec::len);
                let status = if hits == 0 {
                    StepStatus::Warn
                } else {
                    StepStatus::Pass
                };
                Outcome::new(
                    status,
                    format!("{hits} passages for {QUESTION:?}"),
                    json!({"hits": hits}),
                )
            }
            Err(error) if unavailable(&error) => {
                Outcome::skip(format!("retrieval unavailable: {error}"))
            }
            Err(error) => return Err(error.into()),
        }
    };
    let count = outcome.data.get("hits").and_then(Value::as_u64);
    record(run, "retrieve", &outcome, count);
    Ok(outcome)
}
