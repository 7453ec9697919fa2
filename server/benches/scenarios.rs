//! Portfolio scenarios against single-run requests, side by side:
//!
//! ```text
//! cargo bench -p forecastlab-server --bench scenarios
//! BENCH_RUNS=500 BENCH_HORIZON=28 BENCH_REPS=5 cargo bench -p forecastlab-server --bench scenarios
//! ```
//!
//! A temporary SQLite database holds `BENCH_RUNS` series (120 days each);
//! one seasonal-naive model is trained per series in process. The app is
//! served on a local port and, per repetition,
//!
//! * **single** — `BENCH_RUNS` `POST /scenarios/simulate` requests with
//!   `run_id`, sent one after another over HTTP;
//! * **portfolio** — one `POST /scenarios/simulate` with all `run_ids`.
//!
//! Both use the same assumptions (a 15 % price cut for a week, a bogo
//! promotion, stock for the coverage verdict) and a `BENCH_HORIZON`-day
//! horizon. Printed: medians of `BENCH_REPS` repetitions, the per-run cost
//! of each and their ratio.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use forecastlab_server::{
    cli,
    config::Settings,
    db::execute_script,
    features::forecasting::{schemas::TrainRequest, service as forecasting},
};
use serde_json::{json, Value};
use tokio::{net::TcpListener, sync::oneshot};

#[path = "../tests/support/synthetic_sales.rs"]
mod synthetic_sales;

const DAYS: i64 = 120;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    }
}

fn main() -> anyhow::Result<()> {
    let runs = env_usize("BENCH_RUNS", 500);
    let horizon = env_usize("BENCH_HORIZON", 28);
    let reps = env_usize("BENCH_REPS", 5);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(runs, horizon, reps))
}

async fn bench(runs: usize, horizon: usize, reps: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let vars = [
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        ("APP_ENV", "testing".to_owned()),
        ("JOBS_WORKERS", "0".to_owned()),
        ("LOG_LEVEL", "error".to_owned()),
        (
            "FORECAST_MODEL_ARTIFACTS_DIR",
            dir.path().join("models").display().to_string(),
        ),
        (
            "REGISTRY_ARTIFACT_ROOT",
            dir.path().join("registry").display().to_string(),
        ),
    ];
    let settings = Settings::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })?;
    let state = cli::prepare(settings).await?;
    let stores = (runs as i64 + 24) / 25;
    let script = synthetic_sales::script(stores, 25, DAYS, |s, p, d| {
        10 + (s * 7 + p * 3) % 20 + [0, 2, 4, 6, 8, 12, 10][(d % 7) as usize]
    });
    execute_script(&state.db, &script).await?;

    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let end = start + chrono::Days::new(DAYS as u64 - 1);
    let mut keys = Vec::with_capacity(runs);
    for i in 0..runs as i64 {
        let request: TrainRequest = serde_json::from_value(json!({
            "store_id": i / 25 + 1, "product_id": i % 25 + 1,
            "train_start_date": start, "train_end_date": end,
            "config": {"model_type": "seasonal_naive"},
        }))?;
        let trained = forecasting::train(&state, request)
            .await
            .map_err(|p| anyhow::anyhow!("train failed: {}", p.detail))?;
        keys.push(trained.artifact_key);
    }

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/scenarios/simulate", listener.local_addr()?);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = cli::serve_on(state, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    let client = reqwest::Client::new();
    let assumptions = json!({
        "price": {"change_pct": -0.15, "start_date": end + chrono::Days::new(1),
                  "end_date": end + chrono::Days::new(7)},
        "promotion": {"kind": "bogo", "start_date": end + chrono::Days::new(3),
                      "end_date": end + chrono::Days::new(5)},
        "inventory": {"on_hand_units": 600},
    });
    let post = |body: Value| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let response = client.post(&url).json(&body).send().await?;
            anyhow::ensure!(response.status().is_success(), "{}", response.text().await?);
            Ok::<Value, anyhow::Error>(response.json().await?)
        }
    };

    let mut single = Vec::with_capacity(reps);
    let mut portfolio = Vec::with_capacity(reps);
    for _ in 0..reps {
        let clock = Instant::now();
        let mut delta = 0.0;
        for key in &keys {
            let body = post(json!({"run_id": key, "horizon": horizon, "assumptions": assumptions}))
                .await?;
            delta += body["units_delta"].as_f64().unwrap_or(0.0);
        }
        single.push(clock.elapsed());

        let clock = Instant::now();
        let body =
            post(json!({"run_ids": keys, "horizon": horizon, "assumptions": assumptions})).await?;
        portfolio.push(clock.elapsed());
        let total = body["totals"]["units_delta"].as_f64().unwrap_or(f64::NAN);
        anyhow::ensure!(
            body["totals"]["runs"] == json!(runs)
                && (total - delta).abs() < 1e-6 * delta.abs().max(1.0),
            "portfolio and single runs disagree: {total} vs {delta}"
        );
    }
    let _ = tx.send(());
    let _ = server.await;

    let single = median(single);
    let portfolio = median(portfolio);
    let per_run = |d: Duration| d.as_secs_f64() * 1000.0 / runs as f64;
    println!("scenarios: {runs} runs x {horizon} days, median of {reps} (SQLite)");
    println!(
        "  {runs} single-run requests over HTTP: {:>9.1} ms  ({:.3} ms per run)",
        single.as_secs_f64() * 1000.0,
        per_run(single)
    );
    println!(
        "  one portfolio request:               {:>9.1} ms  ({:.3} ms per run)",
        portfolio.as_secs_f64() * 1000.0,
        per_run(portfolio)
    );
    println!(
        "  portfolio speed-up: {:.1}x",
        single.as_secs_f64() / portfolio.as_secs_f64()
    );
    Ok(())
}
