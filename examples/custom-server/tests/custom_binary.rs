//! Builds the custom binary (Cargo builds `forecastlab-custom` for this
//! test), runs it on a fresh SQLite file and a free port, and trains and
//! predicts the third-party `tsb_example` model over HTTP.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_forecastlab-custom");

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn command(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env("DATABASE_URL", database_url)
        .env("FORECAST_MODEL_ARTIFACTS_DIR", dir.join("artifacts/models"))
        .env("REGISTRY_ARTIFACT_ROOT", dir.join("artifacts/registry"))
        .env("JOBS_WORKERS", "0")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// Intermittent demand: zeros with occasional sales of 2–6 units.
fn intermittent(days: usize) -> Vec<i64> {
    (0..days)
        .map(|i| {
            if i % 4 == 1 {
                2 + (i as i64 * 7) % 5
            } else {
                0
            }
        })
        .collect()
}

async fn seed(database_url: &str, quantities: &[i64]) {
    let pool = sqlx::SqlitePool::connect(database_url)
        .await
        .expect("sqlite");
    for sql in [
        "INSERT INTO store (code, name) VALUES ('S1', 'Store 1')",
        "INSERT INTO product (sku, name, base_price) VALUES ('P1', 'Spare part', 9.99)",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    let start = chrono_free_date(0);
    assert_eq!(start, "2024-01-01");
    for (i, quantity) in quantities.iter().enumerate() {
        let date = chrono_free_date(i);
        sqlx::query(
            "INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) \
             VALUES ($1, $2, 1, 1, 2024, FALSE)",
        )
        .bind(&date)
        .bind(i as i64 % 7)
        .execute(&pool)
        .await
        .expect("calendar");
        sqlx::query(
            "INSERT INTO sales_daily (date, store_id, product_id, quantity, unit_price, total_amount) \
             VALUES ($1, 1, 1, $2, 9.99, $3)",
        )
        .bind(&date)
        .bind(quantity)
        .bind(*quantity as f64 * 9.99)
        .execute(&pool)
        .await
        .expect("sales");
    }
    pool.close().await;
}

/// `2024-01-01 + offset` days, for offsets within January (the test uses
/// 28 days).
fn chrono_free_date(offset: usize) -> String {
    format!("2024-01-{:02}", offset + 1)
}

#[tokio::test]
async fn custom_binary_serves_the_plugin_model() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("custom.db").display());

    // `migrate` is the stock server's command, reached through the custom binary.
    let status = command(dir.path(), &database_url)
        .arg("migrate")
        .status()
        .expect("run forecastlab-custom migrate");
    assert!(status.success());
    let quantities = intermittent(28);
    seed(&database_url, &quantities).await;

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        command(dir.path(), &database_url)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .spawn()
            .expect("start forecastlab-custom"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        match client.get(format!("{base}/health")).send().await {
            Ok(response) if response.status().is_success() => break,
            _ if started.elapsed() > Duration::from_secs(60) => panic!("server did not start"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }

    let catalog: Value = client
        .get(format!("{base}/forecasting/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tsb = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model_type"] == "tsb_example")
        .expect("tsb_example in the catalog");
    assert_eq!(tsb["builtin"], false);
    assert_eq!(tsb["enabled"], true);
    assert!(catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["model_type"] == "naive" && m["compiled_in"] == true));

    let post = |path: &str, body: Value| {
        let request = client.post(format!("{base}{path}")).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, problem) = post(
        "/forecasting/train",
        json!({"store_id": 1, "product_id": 1, "train_start_date": "2024-01-01",
               "train_end_date": "2024-01-28", "config": {"model_type": "tsb_example", "alpha": 5.0}}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");

    let (status, trained) = post(
        "/forecasting/train",
        json!({"store_id": 1, "product_id": 1, "train_start_date": "2024-01-01",
               "train_end_date": "2024-01-28", "config": {"model_type": "tsb_example", "alpha": 0.2, "beta": 0.1}}),
    )
    .await;
    assert_eq!(status, 200, "{trained}");
    assert_eq!(trained["model_type"], "tsb_example");
    assert_eq!(trained["n_observations"], 28);

    let (status, predicted) = post(
        "/forecasting/predict",
        json!({"store_id": 1, "product_id": 1, "horizon": 5,
               "model_path": trained["model_path"]}),
    )
    .await;
    assert_eq!(status, 200, "{predicted}");
    let points: Vec<f64> = predicted["forecasts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["forecast"].as_f64().unwrap())
        .collect();
    assert_eq!(points.len(), 5);
    assert_eq!(predicted["forecasts"][0]["date"], "2024-01-29");
    // The same recursions, computed here: a flat p·z forecast.
    let y: Vec<f64> = quantities.iter().map(|&q| q as f64).collect();
    let demands: Vec<f64> = y.iter().copied().filter(|v| *v > 0.0).collect();
    let (mut p, mut z) = (
        demands.len() as f64 / y.len() as f64,
        demands.iter().sum::<f64>() / demands.len() as f64,
    );
    for v in &y {
        if *v > 0.0 {
            p += 0.1 * (1.0 - p);
            z += 0.2 * (v - z);
        } else {
            p -= 0.1 * p;
        }
    }
    for point in points {
        assert!((point - p * z).abs() < 1e-9, "{point} vs {}", p * z);
    }
}
