//! The four wire protocols: where requests go, how they authenticate and
//! whether they ask for a stream.

use axum::http::HeaderMap;
use forecastlab_core::ai::ModelProvider;
use serde_json::Value;

/// A provider's wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI Chat Completions: `POST /v1/chat/completions`, bearer key,
    /// `"stream": true` for server-sent events ending in `[DONE]`.
    OpenAi,
    /// Anthropic Messages: `POST /v1/messages`, `x-api-key` and
    /// `anthropic-version` headers, named SSE events.
    Anthropic,
    /// Gemini: `POST …/models/{model}:generateContent` or
    /// `:streamGenerateContent?alt=sse`, `x-goog-api-key` header (or
    /// `key=` query parameter).
    Gemini,
    /// Ollama's OpenAI-compatible endpoint: `POST /v1/chat/completions`,
    /// no key.
    Ollama,
}

/// A request the protocol accepts: the model it names and whether it asked
/// for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) model: String,
    pub(crate) streamed: bool,
}

impl Protocol {
    /// The provider whose backend talks this protocol.
    pub fn provider(self) -> ModelProvider {
        match self {
            Protocol::OpenAi => ModelProvider::OpenAi,
            Protocol::Anthropic => ModelProvider::Anthropic,
            Protocol::Gemini => ModelProvider::GoogleGla,
            Protocol::Ollama => ModelProvider::Ollama,
        }
    }

    /// The key the server expects, shaped like the provider's real keys.
    pub fn api_key(self) -> Option<&'static str> {
        match self {
            Protocol::OpenAi => Some("sk-proj-TestKey0123456789abcdefOPENAI"),
            Protocol::Anthropic => Some("sk-ant-api03-TestKey0123456789abcdefANTHROPIC"),
            Protocol::Gemini => Some("AIzaTestKey0123456789abcdefGEMINI"),
            Protocol::Ollama => None,
        }
    }

    /// The path below the server's address that the backend's base URL
    /// must name (the backends append the rest).
    pub(crate) fn base_path(self) -> &'static str {
        match self {
            Protocol::OpenAi => "/v1",
            Protocol::Anthropic | Protocol::Ollama => "",
            Protocol::Gemini => "/v1beta",
        }
    }

    /// Matches a request to the protocol's endpoint.
    pub(crate) fn route(
        self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &Value,
    ) -> Result<Route, (u16, String)> {
        if method != "POST" {
            return Err((405, format!("{method} {path} is not supported")));
        }
        let model = || body["model"].as_str().unwrap_or_default().to_owned();
        let streamed = body["stream"].as_bool().unwrap_or(false);
        match self {
            Protocol::OpenAi | Protocol::Ollama if path == "/v1/chat/completions" => Ok(Route {
                model: model(),
                streamed,
            }),
            Protocol::Anthropic if path == "/v1/messages" => Ok(Route {
                model: model(),
                streamed,
            }),
            Protocol::Gemini => gemini_route(path, query),
            _ => Err((404, format!("Unknown request URL: POST {path}"))),
        }
    }

    /// Checks the request's credentials; the message of the provider's
    /// 401 (or 400) when they are wrong.
    pub(crate) fn check_auth(
        self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<(), (u16, String)> {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let Some(expected) = self.api_key() else {
            return Ok(());
        };
        let given = match self {
            Protocol::OpenAi => header("authorization").and_then(|v| v.strip_prefix("Bearer ")),
            Protocol::Anthropic => {
                if header("anthropic-version").is_none() {
                    return Err((400, "anthropic-version: header is required".into()));
                }
                header("x-api-key")
            }
            Protocol::Gemini => header("x-goog-api-key").or_else(|| {
                query.and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("key=")))
            }),
            Protocol::Ollama => None,
        };
        match (self, given) {
            (_, Some(key)) if key == expected => Ok(()),
            // Gemini answers a bad key with 400 and a missing one with 403.
            (Protocol::Gemini, Some(_)) => Err((
                400,
                "API key not valid. Please pass a valid API key.".into(),
            )),
            (Protocol::Gemini, None) => Err((
                403,
                "Method doesn't allow unregistered callers (callers without established \
                 identity). Please use API Key or other form of API consumer identity to \
                 call this API."
                    .into(),
            )),
            (_, Some(_)) => Err((401, "Incorrect API key provided.".into())),
            (_, None) => Err((401, "No API key provided.".into())),
        }
    }
}

/// `…/models/{model}:generateContent` or `…:streamGenerateContent`, the
/// latter only with `alt=sse`.
fn gemini_route(path: &str, query: Option<&str>) -> Result<Route, (u16, String)> {
    let not_found = || (404, format!("Unknown request URL: POST {path}"));
    let (_, call) = path.rsplit_once("/models/").ok_or_else(not_found)?;
    let (model, method) = call.split_once(':').ok_or_else(not_found)?;
    let streamed = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return Err(not_found()),
    };
    let sse = query.is_some_and(|query| query.split('&').any(|pair| pair == "alt=sse"));
    if streamed && !sse {
        return Err((400, "this test server streams only with alt=sse".into()));
    }
    Ok(Route {
        model: model.to_owned(),
        streamed,
    })
}
