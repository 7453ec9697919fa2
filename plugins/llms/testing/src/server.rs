//! The HTTP server: records requests, pops scripted turns, answers them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use forecastlab_core::ai::{LlmSettings, ModelProvider};
use futures::{stream, StreamExt};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::protocol::{Protocol, Route};
use crate::render::{error_body, Renderer};
use crate::script::{Answer, Interruption, Turn};

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Headers, names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Null` when the body was not JSON).
    pub body: Value,
    /// Whether the request asked for a stream.
    pub streamed: bool,
}

impl ReceivedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Default)]
struct Script {
    turns: VecDeque<Turn>,
    received: Vec<ReceivedRequest>,
}

#[derive(Debug)]
struct Shared {
    protocol: Protocol,
    script: Mutex<Script>,
}

impl Shared {
    fn script(&self) -> MutexGuard<'_, Script> {
        // A test that panicked while holding the lock leaves usable data.
        self.script
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A local server speaking one provider's protocol, answering scripted
/// turns in order. Stops when dropped.
#[derive(Debug)]
pub struct ProviderServer {
    shared: Arc<Shared>,
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl ProviderServer {
    /// Starts a server for `protocol` on a free port of `127.0.0.1`.
    pub async fn start(protocol: Protocol) -> ProviderServer {
        let shared = Arc::new(Shared {
            protocol,
            script: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let address = listener.local_addr().expect("local address");
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let task = tokio::spawn(async move {
            // The server runs until the test drops it.
            let _ = axum::serve(listener, app).await;
        });
        ProviderServer {
            shared,
            address,
            task,
        }
    }

    /// An OpenAI Chat Completions server.
    pub async fn openai() -> ProviderServer {
        ProviderServer::start(Protocol::OpenAi).await
    }

    /// An Anthropic Messages server.
    pub async fn anthropic() -> ProviderServer {
        ProviderServer::start(Protocol::Anthropic).await
    }

    /// A Gemini API server.
    pub async fn gemini() -> ProviderServer {
        ProviderServer::start(Protocol::Gemini).await
    }

    /// An Ollama server (its OpenAI-compatible endpoint).
    pub async fn ollama() -> ProviderServer {
        ProviderServer::start(Protocol::Ollama).await
    }

    /// The protocol spoken.
    pub fn protocol(&self) -> Protocol {
        self.shared.protocol
    }

    /// The provider whose backend talks to this server.
    pub fn provider(&self) -> ModelProvider {
        self.shared.protocol.provider()
    }

    /// The address listened on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The base URL to configure the provider's backend with
    /// (`http://127.0.0.1:<port>/v1` for OpenAI, `…/v1beta` for Gemini,
    /// the bare address for Anthropic and Ollama).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.address, self.protocol().base_path())
    }

    /// The key the server accepts (`None` for Ollama).
    pub fn api_key(&self) -> Option<&'static str> {
        self.protocol().api_key()
    }

    /// Backend settings pointing here: the base URL, the accepted key and a
    /// 5-second timeout.
    pub fn settings(&self) -> LlmSettings {
        LlmSettings {
            api_key: self.api_key().map(str::to_owned),
            base_url: Some(self.base_url()),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
        }
    }

    /// Queues `turn` after the ones already queued.
    pub fn push(&self, turn: Turn) -> &ProviderServer {
        self.shared.script().turns.push_back(turn);
        self
    }

    /// Queues each of `turns`, in order.
    pub fn script(&self, turns: impl IntoIterator<Item = Turn>) -> &ProviderServer {
        self.shared.script().turns.extend(turns);
        self
    }

    /// How many queued turns have not been used yet.
    pub fn pending(&self) -> usize {
        self.shared.script().turns.len()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.script().received.clone()
    }

    /// The latest request received.
    pub fn last_request(&self) -> Option<ReceivedRequest> {
        self.shared.script().received.last().cloned()
    }
}

impl Drop for ProviderServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A base URL where nothing listens (a connection is refused).
pub async fn refused_base_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}")
}

/// Answers every request: route and auth checks, recording, then the next
/// scripted turn.
async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let protocol = shared.protocol;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let query = uri.query().map(str::to_owned);
    let route = protocol.route(method.as_str(), uri.path(), query.as_deref(), &body);
    let received = ReceivedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: query.clone(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.clone(),
        streamed: route.as_ref().is_ok_and(|route| route.streamed),
    };
    shared.script().received.push(received);
    let checked = route.and_then(|route| {
        protocol.check_auth(&headers, query.as_deref())?;
        Ok(route)
    });
    let route = match checked {
        Ok(route) => route,
        Err((status, message)) => return error_response(protocol, status, &message),
    };
    let Some(turn) = shared.script().turns.pop_front() else {
        let message = format!(
            "no scripted turn left for {method} {} (the test queued too few)",
            uri.path()
        );
        return error_response(protocol, 500, &message);
    };
    if !turn.delay.is_zero() {
        tokio::time::sleep(turn.delay).await;
    }
    if turn.interruption == Interruption::Silent {
        return std::future::pending().await;
    }
    respond(protocol, &route, &body, turn).await
}

async fn respond(protocol: Protocol, route: &Route, request: &Value, turn: Turn) -> Response {
    let reply = match turn.answer {
        Answer::Error { status, message } => return error_response(protocol, status, &message),
        Answer::Raw {
            status,
            content_type,
            body,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
        }
        Answer::Reply(reply) => reply,
    };
    let renderer = Renderer {
        protocol,
        model: &route.model,
        request,
    };
    if route.streamed {
        let frames = renderer.reply_events(&reply);
        return event_stream(frames, turn.interruption);
    }
    match turn.interruption {
        Interruption::None => axum::Json(renderer.reply_json(&reply)).into_response(),
        Interruption::StallAfter(_) | Interruption::Silent => std::future::pending().await,
        Interruption::CutAfter(_) => event_stream(Vec::new(), turn.interruption),
    }
}

fn error_response(protocol: Protocol, status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = error_body(protocol, status.as_u16(), message);
    (status, axum::Json(body)).into_response()
}

/// A `text/event-stream` answer sending `frames`, each in two network
/// writes (so events arrive split), up to the interruption.
fn event_stream(frames: Vec<String>, interruption: Interruption) -> Response {
    let (kept, tail) = match interruption {
        Interruption::None | Interruption::Silent => (frames.len(), stream::empty().boxed()),
        Interruption::StallAfter(events) => (events, stream::pending().boxed()),
        Interruption::CutAfter(events) => {
            let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut by the script");
            (events, stream::once(async move { Err(cut) }).boxed())
        }
    };
    let pieces: Vec<Bytes> = frames
        .into_iter()
        .take(kept)
        .flat_map(|frame| {
            let middle = (0..=frame.len() / 2)
                .rev()
                .find(|&index| frame.is_char_boundary(index))
                .unwrap_or(0);
            let (head, rest) = frame.split_at(middle);
            [Bytes::from(head.to_owned()), Bytes::from(rest.to_owned())]
        })
        .filter(|piece| !piece.is_empty())
        .collect();
    let head = stream::iter(pieces).then(|piece| async move {
        tokio::task::yield_now().await;
        Ok::<_, std::io::Error>(piece)
    });
    let body = Body::from_stream(head.chain(tail));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
