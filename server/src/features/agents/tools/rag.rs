//! The RAG assistant's tools (operations-ai spec §5.5): `retrieve_context`
//! searches the indexed documentation; `format_citations` and
//! `check_evidence` are pure reshapings of a retrieval result.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{arguments, ToolFailure, ToolResult};
use crate::{
    features::{
        agents::schemas::Citation,
        rag::{
            schemas::{RetrieveFilters, RetrieveRequest, SourceTypeFilter},
            service as rag_service,
        },
    },
    state::AppState,
};
use forecastlab_core::ai::ToolSpec;

/// Longest snippet of a citation, in characters.
const SNIPPET_CHARS: usize = 200;

/// The RAG assistant's tools.
pub(super) fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "retrieve_context".to_owned(),
            description: "Search the indexed documentation for passages relevant to a query; \
                          returns the best chunks with their source path, chunk id and \
                          relevance score."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "top_k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
                    "similarity_threshold": {"type": "number", "minimum": 0, "maximum": 1},
                    "source_type": {"type": "string", "enum": ["markdown", "openapi"]}
                },
                "required": ["query"]
            }),
        },
        ToolSpec {
            name: "format_citations".to_owned(),
            description: "Turn a retrieve_context result into citations (source, chunk id, \
                          relevance, snippet)."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {"retrieval_result": {"type": "object"}},
                "required": ["retrieval_result"]
            }),
        },
        ToolSpec {
            name: "check_evidence".to_owned(),
            description: "Whether a retrieve_context result is enough evidence to answer: at \
                          least min_results results with a mean relevance of at least \
                          min_relevance."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "retrieval_result": {"type": "object"},
                    "min_results": {"type": "integer", "minimum": 0, "default": 1},
                    "min_relevance": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.7}
                },
                "required": ["retrieval_result"]
            }),
        },
    ]
}

#[derive(Debug, Deserialize)]
struct RetrievalArgs {
    retrieval_result: Value,
}

#[derive(Debug, Deserialize)]
struct EvidenceArgs {
    retrieval_result: Value,
    #[serde(default = "one")]
    min_results: usize,
    #[serde(default = "seventy")]
    min_relevance: f64,
}

fn one() -> usize {
    1
}

fn seventy() -> f64 {
    0.7
}

/// Runs one of the RAG tools.
pub(super) async fn execute(state: &AppState, tool: &str, args: &Value) -> ToolResult {
    match tool {
        "retrieve_context" => retrieve(state, args).await,
        "format_citations" => {
            let RetrievalArgs { retrieval_result } = arguments(args)?;
            let citations = citations(std::slice::from_ref(&retrieval_result));
            Ok(serde_json::to_value(citations).unwrap_or(Value::Null))
        }
        "check_evidence" => {
            let args: EvidenceArgs = arguments(args)?;
            Ok(json!(evidence_found(
                &args.retrieval_result,
                args.min_results,
                args.min_relevance
            )))
        }
        other => Err(ToolFailure::new(
            "unknown_tool",
            format!("Unknown tool: {other}"),
        )),
    }
}

/// `retrieve_context`: the `/rag/retrieve` search (vector mode) with the
/// model's query, `top_k`, threshold and source type. An embedding
/// failure is told to the model, whose answer then carries `no_evidence`.
async fn retrieve(state: &AppState, args: &Value) -> ToolResult {
    #[derive(Debug, Deserialize)]
    struct Query {
        query: String,
        top_k: Option<u32>,
        similarity_threshold: Option<f64>,
        source_type: Option<String>,
    }
    let args: Query = arguments(args)?;
    if args.query.trim().is_empty() {
        return Err(ToolFailure::arguments("query must not be blank"));
    }
    let request = RetrieveRequest {
        query: args.query,
        top_k: args.top_k.unwrap_or(5),
        similarity_threshold: args.similarity_threshold,
        filters: args.source_type.map(|source_type| RetrieveFilters {
            source_type: Some(SourceTypeFilter::One(source_type)),
            category: None,
        }),
        mode: None,
    };
    crate::extract::validate(&request, None)
        .map_err(|problem| ToolFailure::arguments(&problem.detail))?;
    match rag_service::retrieve(state, request).await {
        Ok(found) => Ok(serde_json::to_value(found).unwrap_or(Value::Null)),
        Err(problem) => Err(ToolFailure::new("retrieval_failed", problem.detail.clone())),
    }
}

fn results(retrieval: &Value) -> &[Value] {
    retrieval["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn snippet(content: &str) -> String {
    match content.char_indices().nth(SNIPPET_CHARS) {
        Some((end, _)) => format!("{}...", &content[..end]),
        None => content.to_owned(),
    }
}

/// The citations of every result of `retrievals`, best first, each chunk
/// once (spec `format_citations`, plus the chunk's heading).
pub(crate) fn citations(retrievals: &[Value]) -> Vec<Citation> {
    let mut all: Vec<(f64, Citation)> = Vec::new();
    for result in retrievals.iter().flat_map(results) {
        let Some(chunk_id) = result["chunk_id"].as_str() else {
            continue;
        };
        if all.iter().any(|(_, cited)| cited.chunk_id == chunk_id) {
            continue;
        }
        let score = result["relevance_score"].as_f64().unwrap_or(0.0);
        all.push((
            score,
            Citation {
                source_type: result["source_type"].as_str().unwrap_or("").to_owned(),
                source_path: result["source_path"].as_str().unwrap_or("").to_owned(),
                chunk_id: chunk_id.to_owned(),
                heading: result["metadata"]["heading"].as_str().map(str::to_owned),
                relevance: format!("{score:.2}"),
                snippet: snippet(result["content"].as_str().unwrap_or("")),
            },
        ));
    }
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    all.into_iter().map(|(_, citation)| citation).collect()
}

/// Spec `check_evidence`: false when there are fewer than `min_results`
/// results or their mean relevance is below `min_relevance`.
pub(crate) fn evidence_found(retrieval: &Value, min_results: usize, min_relevance: f64) -> bool {
    let scores: Vec<f64> = results(retrieval)
        .iter()
        .map(|result| result["relevance_score"].as_f64().unwrap_or(0.0))
        .collect();
    if scores.len() < min_results {
        return false;
    }
    if scores.is_empty() {
        return true;
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    mean >= min_relevance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrieval() -> Value {
        json!({"results": [
            {"chunk_id": "c1", "source_id": "s1", "source_path": "docs/a.md", "source_type": "markdown",
             "content": "x".repeat(250), "relevance_score": 0.71, "metadata": {"heading": "Setup"}},
            {"chunk_id": "c2", "source_id": "s1", "source_path": "docs/a.md", "source_type": "markdown",
             "content": "short", "relevance_score": 0.93, "metadata": null}
        ]})
    }

    #[test]
    fn citations_are_best_first_with_snippets_and_headings() {
        let cited = citations(&[retrieval(), retrieval()]);
        assert_eq!(cited.len(), 2, "each chunk once");
        assert_eq!(cited[0].chunk_id, "c2");
        assert_eq!(cited[0].relevance, "0.93");
        assert_eq!(cited[0].heading, None);
        assert_eq!(cited[1].heading.as_deref(), Some("Setup"));
        assert_eq!(cited[1].snippet.chars().count(), 203);
        assert!(cited[1].snippet.ends_with("..."));
        assert_eq!(cited[0].snippet, "short");
    }

    #[test]
    fn evidence_needs_enough_results_and_mean_relevance() {
        let found = retrieval();
        assert!(evidence_found(&found, 1, 0.7));
        assert!(evidence_found(&found, 2, 0.82));
        assert!(!evidence_found(&found, 2, 0.83));
        assert!(!evidence_found(&found, 3, 0.1));
        assert!(!evidence_found(&json!({"results": []}), 1, 0.0));
        assert!(evidence_found(&json!({"results": []}), 0, 0.9));
    }
}
