//! Agent overhead per message, excluding the model's own time, on SQLite
//! and PostgreSQL, against a local OpenAI-protocol server that answers
//! instantly.
//!
//! - **turn**: one `POST /agents/sessions/{id}/chat` whose model first
//!   calls `list_runs` and `get_run` (both read the registry), then answers
//!   — two model round trips. `model` is the median time of the same
//!   request body sent straight to the provider server (the part of a
//!   model round trip the agent cannot change); `overhead` = median turn −
//!   2 × median model round trip: the agent's own work (session load and
//!   save, history, both tool calls, audit, cost accounting, HTTP).
//! - **ws×N**: N sessions (default 50) streaming at once over
//!   `WS /agents/stream`, each answer in 10 text pieces; every stream must
//!   end in `complete` with the whole text, else the bench fails. Reports
//!   the wall clock of the batch and the median per-session latency.
//!
//! `cargo bench -p forecastlab-tests --bench agents`
//! (`BENCH_REPS`, default 200 turns; `BENCH_SESSIONS`, default 50.)

use std::time::{Duration, Instant};

use forecastlab_llm_testing::{ProviderServer, Turn};
use forecastlab_tests::{Backend, TestApp};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let reps = env_usize("BENCH_REPS", 200);
    let sessions = env_usize("BENCH_SESSIONS", 50);
    println!(
        "{:10} {:>14} {:>16} {:>15} {:>14} {:>18}",
        "backend",
        "turn p50 (ms)",
        "model p50 (ms)",
        "overhead (ms)",
        format!("ws×{sessions} (ms)"),
        "ws p50/session"
    );
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let server = ProviderServer::openai().await;
        let base = server.base_url();
        let app = TestApp::spawn_with(
            backend,
            &[
                ("AGENT_DEFAULT_MODEL", "openai:gpt-4o"),
                ("AGENT_FALLBACK_MODEL", "none"),
                ("OPENAI_API_KEY", server.api_key().unwrap_or_default()),
                ("OPENAI_BASE_URL", base.as_str()),
            ],
        )
        .await;
        let (turn, model) = turns(&app, &server, reps).await?;
        let (wall, per_session) = streams(&app, &server, sessions).await?;
        println!(
            "{:10} {turn:>14.3} {model:>16.3} {:>15.3} {wall:>14.1} {per_session:>18.1}",
            format!("{backend:?}"),
            turn - 2.0 * model,
        );
    }
    Ok(())
}

async fn new_session(app: &TestApp) -> anyhow::Result<String> {
    let created = app
        .post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await;
    created.assert_status(201)["session_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session id"))
}

/// Median of a two-tool-call message, and of one model round trip.
async fn turns(app: &TestApp, server: &ProviderServer, reps: usize) -> anyhow::Result<(f64, f64)> {
    let created = app
        .post(
            "/registry/runs",
            &json!({"model_type": "naive", "model_config": {"model_type": "naive"},
                "data_window_start": "2024-01-01", "data_window_end": "2024-03-31",
                "store_id": 1, "product_id": 1}),
        )
        .await;
    let run_id = created.assert_status(201)["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut turn_ms = Vec::with_capacity(reps);
    for _ in 0..reps {
        // A fresh session each time, so every message carries the same
        // history.
        let id = new_session(app).await?;
        server
            .push(
                Turn::tool_call("list_runs", json!({"store_id": 1}))
                    .and_tool_call("get_run", json!({"run_id": run_id})),
            )
            .push(Turn::text("One naive run."));
        let started = Instant::now();
        let response = app
            .post(
                &format!("/agents/sessions/{id}/chat"),
                &json!({"message": "Which runs exist for store 1?"}),
            )
            .await;
        turn_ms.push(ms(started.elapsed()));
        let body = response.assert_status(200);
        anyhow::ensure!(
            body["tool_calls"].as_array().map(Vec::len) == Some(2),
            "unexpected answer: {body}"
        );
    }
    // The model's share: the agent's second request, sent straight to the
    // provider server by a client like the agent's.
    let request = server
        .last_request()
        .ok_or_else(|| anyhow::anyhow!("no request reached the provider"))?;
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", server.base_url());
    let mut model_ms = Vec::with_capacity(reps);
    for _ in 0..reps {
        server.push(Turn::text("One naive run."));
        let started = Instant::now();
        let answer = client
            .post(&url)
            .bearer_auth(server.api_key().unwrap_or_default())
            .json(&request.body)
            .send()
            .await?
            .bytes()
            .await?;
        model_ms.push(ms(started.elapsed()));
        anyhow::ensure!(!answer.is_empty(), "empty model answer");
    }
    Ok((median(turn_ms), median(model_ms)))
}

/// Wall clock of `sessions` streams at once, and the median stream.
async fn streams(
    app: &TestApp,
    server: &ProviderServer,
    sessions: usize,
) -> anyhow::Result<(f64, f64)> {
    let answer = "Ten pieces of streamed text, one after another, then done.";
    let mut ids = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        ids.push(new_session(app).await?);
        server.push(Turn::text(answer).in_pieces(10));
    }
    let url = app.url("/agents/stream").replacen("http", "ws", 1);
    let started = Instant::now();
    let runs = ids.iter().map(|id| {
        let url = url.clone();
        async move {
            let began = Instant::now();
            let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
            let frame = json!({"session_id": id, "message": "hello"}).to_string();
            socket.send(Message::Text(frame.into())).await?;
            let mut text = String::new();
            while let Some(message) = socket.next().await {
                let Message::Text(frame) = message? else {
                    continue;
                };
                let event: Value = serde_json::from_str(&frame)?;
                match event["event_type"].as_str() {
                    Some("text_delta") => {
                        text.push_str(event["data"]["delta"].as_str().unwrap_or(""))
                    }
                    Some("complete") => break,
                    _ => anyhow::bail!("unexpected event: {event}"),
                }
            }
            anyhow::ensure!(text == answer, "stream text {text:?}");
            socket.close(None).await.ok();
            Ok::<f64, anyhow::Error>(ms(began.elapsed()))
        }
    });
    let results = futures::future::join_all(runs).await;
    let wall = ms(started.elapsed());
    let latencies = results.into_iter().collect::<anyhow::Result<Vec<f64>>>()?;
    Ok((wall, median(latencies)))
}
