//! A local stand-in for the embedding providers, for tests.
//!
//! An [`EmbeddingServer`] listens on `127.0.0.1` in the test process and
//! speaks a provider's wire protocol:
//!
//! - **OpenAI** ([`EmbeddingServer::openai`]): `POST /v1/embeddings` with
//!   `Authorization: Bearer <key>` (a wrong or missing key gets OpenAI's 401
//!   envelope), `{model, input: [..], dimensions?}` in, `{object: "list",
//!   data: [{object: "embedding", index, embedding}], model, usage}` out.
//! - **Ollama** ([`EmbeddingServer::ollama`]): the same `/v1/embeddings`
//!   without a key (an unknown model gets Ollama's 404 "not found, try
//!   pulling it first"), and `GET /api/tags` listing the pulled models.
//!
//! Vectors are real: each input is embedded by the `lexical` embedder at the
//! requested dimension (384 when none is asked), so retrieval over this
//! server ranks like retrieval over a real model would, deterministically.
//! [`EmbeddingServer::shuffle`] returns the items in reverse order (clients
//! must re-order by `index`). Failures are scripted per request with
//! [`Reply`]: any status with the provider's error envelope, raw bytes, or
//! an answer that never comes. Every request is recorded.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

/// The key an [`EmbeddingServer::openai`] server accepts.
pub const OPENAI_KEY: &str = "sk-test-embeddings-0123456789";
/// Vector length when the request asks for no dimension.
pub const DEFAULT_DIMENSION: usize = 384;

/// Which provider the server imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// OpenAI: bearer key required.
    OpenAi,
    /// Ollama: no key, models must be pulled, `/api/tags`.
    Ollama,
}

/// A scripted answer to the next embeddings request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An error status with the provider's JSON error envelope.
    Error {
        /// HTTP status.
        status: u16,
        /// The error message.
        message: String,
    },
    /// Exact bytes with a status (garbage, truncated JSON, …).
    Raw {
        /// HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// Answers normally, after a delay.
    Slow(Duration),
}

impl Reply {
    /// OpenAI's rate-limit answer (429).
    pub fn rate_limited() -> Reply {
        Reply::Error {
            status: 429,
            message: "Rate limit reached for text-embedding-3-small".into(),
        }
    }

    /// An error status with `message`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Error {
            status,
            message: message.into(),
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body (`Null` when not JSON).
    pub body: Value,
}

#[derive(Debug, Default)]
struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Received>,
    shuffled: bool,
    models: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    flavour: Flavour,
    script: Mutex<Script>,
}

impl Shared {
    fn script(&self) -> MutexGuard<'_, Script> {
        self.script
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A local embeddings server. Stops when dropped.
#[derive(Debug)]
pub struct EmbeddingServer {
    shared: Arc<Shared>,
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl EmbeddingServer {
    async fn start(flavour: Flavour, models: &[&str]) -> EmbeddingServer {
        let shared = Arc::new(Shared {
            flavour,
            script: Mutex::new(Script {
                models: models.iter().map(|m| (*m).to_owned()).collect(),
                ..Script::default()
            }),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let address = listener.local_addr().expect("local address");
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        EmbeddingServer {
            shared,
            address,
            task,
        }
    }

    /// An OpenAI embeddings server accepting [`OPENAI_KEY`].
    pub async fn openai() -> EmbeddingServer {
        EmbeddingServer::start(Flavour::OpenAi, &[]).await
    }

    /// An Ollama server with `models` pulled.
    pub async fn ollama(models: &[&str]) -> EmbeddingServer {
        EmbeddingServer::start(Flavour::Ollama, models).await
    }

    /// `http://127.0.0.1:<port>` (OpenAI clients add `/v1` themselves).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Queues `reply` for a coming embeddings request.
    pub fn push(&self, reply: Reply) -> &EmbeddingServer {
        self.shared.script().replies.push_back(reply);
        self
    }

    /// Whether items come back in reverse order.
    pub fn shuffle(&self, on: bool) -> &EmbeddingServer {
        self.shared.script().shuffled = on;
        self
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.script().received.clone()
    }

    /// The embeddings requests received.
    pub fn embedding_requests(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/v1/embeddings")
            .collect()
    }
}

impl Drop for EmbeddingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A base URL where nothing listens (connections are refused).
pub async fn refused_base_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}")
}

fn error_envelope(flavour: Flavour, status: u16, message: &str) -> Value {
    match flavour {
        Flavour::OpenAi => json!({"error": {
            "message": message,
            "type": if status == 429 { "requests" } else { "invalid_request_error" },
            "param": null,
            "code": null,
        }}),
        Flavour::Ollama => json!({"error": {"message": message}}),
    }
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let flavour = shared.flavour;
    let (reply, shuffled, models) = {
        let mut script = shared.script();
        script.received.push(Received {
            method: method.to_string(),
            path: uri.path().to_owned(),
            authorization: authorization.clone(),
            body: body.clone(),
        });
        let reply = if uri.path() == "/v1/embeddings" {
            script.replies.pop_front()
        } else {
            None
        };
        (reply, script.shuffled, script.models.clone())
    };
    match (flavour, method.as_str(), uri.path()) {
        (Flavour::Ollama, "GET", "/api/tags") => {
            let models: Vec<Value> = models
                .iter()
                .map(|name| {
                    json!({"name": name, "model": name, "size": 274_302_450u64,
                           "details": {"family": "nomic-bert", "format": "gguf"}})
                })
                .collect();
            return json_response(200, &json!({ "models": models }));
        }
        (_, "POST", "/v1/embeddings") => {}
        _ => return json_response(404, &error_envelope(flavour, 404, "404 page not found")),
    }
    let expected = format!("Bearer {OPENAI_KEY}");
    if flavour == Flavour::OpenAi && authorization.as_deref() != Some(expected.as_str()) {
        let message = "Incorrect API key provided. You can find your API key at the dashboard.";
        return json_response(401, &error_envelope(flavour, 401, message));
    }
    match reply {
        Some(Reply::Error { status, message }) => {
            return json_response(status, &error_envelope(flavour, status, &message))
        }
        Some(Reply::Raw { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        }
        Some(Reply::Slow(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    let pulled = models
        .iter()
        .any(|m| m == &model || m.split(':').next() == Some(model.as_str()));
    if flavour == Flavour::Ollama && !pulled {
        let message = format!("model \"{model}\" not found, try pulling it first");
        return json_response(404, &error_envelope(flavour, 404, &message));
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => {
            return json_response(
                400,
                &error_envelope(flavour, 400, "'input' is a required property"),
            )
        }
    };
    let dimension = body["dimensions"]
        .as_u64()
        .map_or(DEFAULT_DIMENSION, |d| d as usize)
        .clamp(64, 16_384);
    let mut data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({"object": "embedding", "index": index,
                   "embedding": forecastlab_embed_lexical::embed_text(text, dimension)})
        })
        .collect();
    if shuffled {
        data.reverse();
    }
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    json_response(
        200,
        &json!({"object": "list", "data": data, "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}
