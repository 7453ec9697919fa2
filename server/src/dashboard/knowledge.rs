//! Page 8, Knowledge & agents (`/ui/knowledge`): index a project document
//! (or all project docs), search the index with citations (source path,
//! chunk id, heading, score), and talk to an agent: start a session, chat,
//! see its tool calls and approve or reject the action it holds for a human.
//!
//! Searching and reading a session are fragments that run through the RAG
//! and agents services; indexing, starting a session, chatting and
//! deciding call the JSON API from the page. Without an LLM provider the
//! API answers 400 naming the missing setting, which the page shows beside
//! the agent controls.

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use forecastlab_core::ai::llm::{ChatMessage, ChatRole};
use serde::Deserialize;
use serde_json::Value;

use super::{
    chart::{Chart, Colour, Series, Style},
    nav::{self, NavItem},
    page::{num, render, Layout},
};
use crate::{
    extract::{validate, Query, Validate, Violations},
    features::{
        agents::{
            self,
            schemas::{SessionResponse, ToolCallRecord},
        },
        rag::{
            self,
            schemas::{
                RetrieveFilters, RetrieveMode, RetrieveRequest, RetrievedChunk, SourceInfo,
                SourceTypeFilter,
            },
        },
    },
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::KNOWLEDGE;

/// The page and its fragments.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/knowledge", get(page))
        .route("/ui/knowledge/sources", get(sources))
        .route("/ui/knowledge/search", get(search))
        .route("/ui/knowledge/session", get(session))
}

#[derive(Template)]
#[template(path = "knowledge.html")]
struct KnowledgePage {
    layout: Layout,
    /// The agents' model and fallback, as configured now.
    agent_model: String,
    fallback_model: String,
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    let models = state.ai.current().models;
    render(&KnowledgePage {
        layout: Layout::of(NAV),
        agent_model: models.default_model.to_string(),
        fallback_model: models
            .fallback_model
            .map_or_else(|| "none".to_owned(), |model| model.to_string()),
    })
}

#[derive(Template)]
#[template(path = "knowledge_sources.html")]
struct SourcesFragment {
    sources: Vec<SourceInfo>,
    total_chunks: u64,
}

impl SourcesFragment {
    fn indexed(&self, source: &SourceInfo) -> String {
        source.indexed_at.format("%Y-%m-%d %H:%M").to_string()
    }

    fn category(&self, source: &SourceInfo) -> String {
        metadata_text(source.metadata.as_ref(), "category")
    }
}

/// A text member of a metadata object, or a dash.
fn metadata_text(metadata: Option<&Value>, key: &str) -> String {
    metadata
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .map_or_else(|| "—".to_owned(), str::to_owned)
}

/// `GET /ui/knowledge/sources`: every indexed source.
async fn sources(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    let list = rag::service::sources(&state).await?;
    render(&SourcesFragment {
        sources: list.sources,
        total_chunks: list.total_chunks,
    })
}

/// `?query=&mode=&top_k=&source_type=&category=` of a search.
#[derive(Debug, Deserialize)]
struct SearchQuery {
    query: String,
    #[serde(default)]
    mode: Option<RetrieveMode>,
    #[serde(default)]
    top_k: Option<u32>,
    #[serde(default)]
    source_type: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

impl SearchQuery {
    /// The `POST /rag/retrieve` body this search asks for.
    fn request(self) -> RetrieveRequest {
        let filters =
            (self.source_type.is_some() || self.category.is_some()).then(|| RetrieveFilters {
                source_type: self.source_type.map(SourceTypeFilter::One),
                category: self.category,
            });
        RetrieveRequest {
            query: self.query,
            top_k: self.top_k.unwrap_or(5),
            similarity_threshold: None,
            filters,
            mode: self.mode,
        }
    }
}

impl Validate for SearchQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(category) = &self.category {
            v.length("category", category, 1, 100);
        }
    }
}

/// One citation of a search.
#[derive(Debug)]
struct Citation {
    rank: usize,
    chunk: RetrievedChunk,
}

impl Citation {
    fn heading(&self) -> String {
        let metadata = self.chunk.metadata.as_ref();
        match metadata_text(metadata, "heading").as_str() {
            "—" => metadata_text(metadata, "description"),
            heading => heading.to_owned(),
        }
    }

    fn score(&self) -> String {
        num(Some(self.chunk.relevance_score), 4)
    }

    /// The first 300 characters of the chunk.
    fn snippet(&self) -> String {
        let text = self.chunk.content.trim();
        match text.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "knowledge_search.html")]
struct SearchFragment {
    query: String,
    mode: &'static str,
    citations: Vec<Citation>,
    searched: u64,
    search_ms: String,
    charts: Vec<Chart>,
}

/// `GET /ui/knowledge/search?query=…`: the chunks `POST /rag/retrieve`
/// returns for the same request, as citations.
async fn search(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Html<String>, Problem> {
    let request = query.request();
    validate(&request, Some("query"))?;
    let text = request.query.clone();
    let found = rag::service::retrieve(&state, request).await?;
    let citations: Vec<Citation> = found
        .results
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| Citation { rank: i + 1, chunk })
        .collect();
    let charts = if citations.is_empty() {
        Vec::new()
    } else {
        vec![relevance_chart(&citations)]
    };
    render(&SearchFragment {
        query: text,
        mode: found.mode.as_str(),
        citations,
        searched: found.total_chunks_searched,
        search_ms: num(Some(found.search_time_ms), 1),
        charts,
    })
}

/// Relevance of each citation, best first.
fn relevance_chart(citations: &[Citation]) -> Chart {
    let mut chart = Chart::categories("rag-relevance", "Relevance of each citation", "score");
    chart.x = citations
        .iter()
        .map(|c| format!("{}. {}", c.rank, c.chunk.source_path))
        .collect();
    chart.push(Series::new(
        "relevance",
        citations
            .iter()
            .map(|c| Some(c.chunk.relevance_score))
            .collect(),
        Style::Line,
        Colour::Blue,
    ));
    chart
}

/// `?session_id=` of an agent session.
#[derive(Debug, Deserialize)]
struct SessionRef {
    session_id: String,
}

impl Validate for SessionRef {
    fn validate(&self, v: &mut Violations) {
        v.length("session_id", &self.session_id, 1, 64);
    }
}

/// One line of the conversation as the page shows it.
#[derive(Debug)]
struct Line {
    role: &'static str,
    text: String,
    /// Tool calls the assistant asked for, as `name(arguments)`.
    calls: Vec<String>,
}

impl Line {
    /// CSS class suffix of the author.
    fn class(&self) -> &'static str {
        match self.role {
            "you" => "user",
            "agent" => "agent",
            _ => "tool",
        }
    }

    fn of(message: ChatMessage) -> Option<Self> {
        let role = match message.role {
            ChatRole::System => return None,
            ChatRole::User => "you",
            ChatRole::Assistant => "agent",
            ChatRole::Tool => "tool result",
        };
        Some(Self {
            role,
            text: message.content,
            calls: message
                .tool_calls
                .iter()
                .map(|call| format!("{}({})", call.name, call.arguments))
                .collect(),
        })
    }
}

#[derive(Template)]
#[template(path = "knowledge_session.html")]
struct SessionFragment {
    session: SessionResponse,
    lines: Vec<Line>,
    calls: Vec<ToolCallRecord>,
}

impl SessionFragment {
    fn status(&self) -> &'static str {
        self.session.status.as_str()
    }

    fn agent(&self) -> &'static str {
        self.session.agent_type.as_str()
    }

    fn cost(&self) -> String {
        num(Some(self.session.cost_usd), 4)
    }

    fn json(&self, value: &Value) -> String {
        value.to_string()
    }

    fn time(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.format("%Y-%m-%d %H:%M:%S").to_string()
    }

    fn ms(&self, value: &f64) -> String {
        num(Some(*value), 1)
    }

    fn or_dash(&self, value: &Option<String>) -> String {
        value.clone().unwrap_or_else(|| "—".to_owned())
    }
}

/// `GET /ui/knowledge/session?session_id=`: the conversation, the pending
/// action with its approve and reject buttons, and the tool-call audit.
async fn session(
    State(state): State<AppState>,
    Query(SessionRef { session_id }): Query<SessionRef>,
) -> Result<Html<String>, Problem> {
    let mut session = agents::service::get_session(&state, &session_id, true).await?;
    let calls = agents::service::tool_calls(&state, &session_id)
        .await?
        .tool_calls;
    let lines = session
        .message_history
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|value| serde_json::from_value::<ChatMessage>(value).ok())
        .filter_map(Line::of)
        .collect();
    render(&SessionFragment {
        session,
        lines,
        calls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_becomes_the_retrieve_request() {
        let query = SearchQuery {
            query: "backtest folds".into(),
            mode: Some(RetrieveMode::Hybrid),
            top_k: None,
            source_type: Some("markdown".into()),
            category: None,
        };
        let request = query.request();
        assert_eq!(request.query, "backtest folds");
        assert_eq!(request.top_k, 5);
        assert_eq!(request.mode, Some(RetrieveMode::Hybrid));
        let filters = request.filters.expect("filters");
        assert!(filters.source_type.unwrap().accepts("markdown"));
        assert!(filters.category.is_none());
        let plain = SearchQuery {
            query: "x".into(),
            mode: None,
            top_k: Some(3),
            source_type: None,
            category: None,
        }
        .request();
        assert!(plain.filters.is_none());
        assert_eq!(plain.top_k, 3);
    }

    #[test]
    fn conversation_lines_leave_out_the_system_prompt() {
        assert!(Line::of(ChatMessage::system("rules")).is_none());
        let line = Line::of(ChatMessage::user("hello")).unwrap();
        assert_eq!((line.role, line.text.as_str()), ("you", "hello"));
    }
}
