//! Wall clock of the demo pipeline on `demo_minimal` and `showcase_rich`
//! (SQLite, seeded by the run, no LLM key so the agent steps skip): each
//! run's total, its slowest step, and the pipeline's own overhead — the
//! wall clock minus the time during which a platform route was working
//! (`time_in_routes_s`) — as a share of the total. Median of `BENCH_REPS`
//! (default 3) runs per preset.
//!
//! `cargo bench -p forecastlab-tests --bench demo`

use forecastlab_tests::{Backend, TestApp};
use serde_json::{json, Value};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!(
        "{:14} {:>9} {:>22} {:>10} {:>9}",
        "preset", "wall (s)", "slowest step (s)", "routes (s)", "overhead"
    );
    for preset in ["demo_minimal", "showcase_rich"] {
        let app = TestApp::spawn(Backend::Sqlite).await;
        let mut runs: Vec<(f64, f64, String, f64)> = Vec::new();
        for rep in 0..reps {
            let events = stream(&app, json!({"scenario": preset, "skip_seed": rep > 0})).await?;
            let summary = events.last().cloned().unwrap_or(Value::Null);
            anyhow::ensure!(summary["status"] == "pass", "{preset} failed: {events:?}");
            let wall = summary["data"]["wall_clock_s"].as_f64().unwrap_or(0.0);
            let routes = summary["data"]["time_in_routes_s"].as_f64().unwrap_or(0.0);
            let slowest = events
                .iter()
                .filter(|e| e["event_type"] == "step_complete")
                .max_by(|a, b| {
                    let d = |e: &Value| e["duration_ms"].as_f64().unwrap_or(0.0);
                    d(a).total_cmp(&d(b))
                })
                .cloned()
                .unwrap_or(Value::Null);
            runs.push((
                wall,
                routes,
                slowest["step_name"].as_str().unwrap_or("?").to_owned(),
                slowest["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            ));
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, routes, step, seconds) = &runs[runs.len() / 2];
        println!(
            "{preset:14} {wall:>9.3} {:>22} {routes:>10.3} {:>8.2}%",
            format!("{step} {seconds:.3}"),
            (wall - routes) / wall * 100.0
        );
    }
    Ok(())
}

/// Runs the pipeline over the WebSocket and returns every event.
async fn stream(app: &TestApp, frame: Value) -> anyhow::Result<Vec<Value>> {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let url = app.url("/demo/stream").replacen("http", "ws", 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    socket.send(Message::Text(frame.to_string().into())).await?;
    let mut events = Vec::new();
    while let Some(message) = socket.next().await {
        match message? {
            Message::Text(text) => events.push(serde_json::from_str(&text)?),
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(events)
}
