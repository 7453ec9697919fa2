//! Data-platform benchmark, run with
//!
//! ```text
//! cargo bench -p forecastlab-server --bench data_platform
//! ```
//!
//! For each backend (a fresh PostgreSQL database, created and dropped like
//! the test harness does, and a temporary SQLite file) it
//!
//! 1. ingests `BENCH_INGEST_ROWS` rows through `POST /ingest/sales-daily` in
//!    batches of 10,000 and, side by side, loads the same rows with
//!    PostgreSQL's own `COPY … FROM STDIN` (CSV) or the `sqlite3` CLI's
//!    `.import` (CSV) into the same, emptied table;
//! 2. loads `BENCH_ANALYTICS_ROWS` sales rows and times `GET /analytics/kpis`
//!    and `GET /analytics/drilldowns?dimension=store` against the very same
//!    SQL statements run directly on the database.
//!
//! Every figure is the median of `BENCH_REPS` repetitions (after one
//! warm-up for the analytics queries). Settings (environment):
//! `BENCH_INGEST_ROWS` (default 200000), `BENCH_ANALYTICS_ROWS` (1000000),
//! `BENCH_REPS` (5), `BENCH_BACKENDS` (`postgres,sqlite`),
//! `TEST_POSTGRES_URL` (admin URL of the PostgreSQL service).

use std::{
    collections::HashMap,
    io::Write,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use chrono::{Datelike, NaiveDate};
use forecastlab_server::{
    cli,
    config::Settings,
    db::{execute_script, Backend},
    features::analytics::bench_support,
    with_db, Db,
};
use serde_json::Value;
use sqlx::{Connection, Row};
use tokio::{net::TcpListener, sync::oneshot};

#[path = "support/bench_rows.rs"]
mod bench_rows;

use bench_rows::{csv, day, ingest_bodies, money, price_cents, BATCH, PRODUCTS, STORES};

#[derive(Debug, Clone)]
struct Config {
    ingest_rows: usize,
    analytics_rows: usize,
    reps: usize,
    backends: Vec<Backend>,
    postgres_admin: String,
}

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .replace('_', "")
            .parse()
            .with_context(|| format!("{name}={value:?} is not a number")),
        _ => Ok(default),
    }
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
        let backends = std::env::var("BENCH_BACKENDS")
            .unwrap_or_else(|_| "postgres,sqlite".to_owned())
            .split(',')
            .filter(|name| !name.trim().is_empty())
            .map(|name| match name.trim() {
                "postgres" => Ok(Backend::Postgres),
                "sqlite" => Ok(Backend::Sqlite),
                other => bail!("unknown backend {other:?} in BENCH_BACKENDS"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            ingest_rows: env_usize("BENCH_INGEST_ROWS", 200_000)?.max(1),
            analytics_rows: env_usize("BENCH_ANALYTICS_ROWS", 1_000_000)?.max(1),
            reps: env_usize("BENCH_REPS", 5)?.max(1),
            backends,
            postgres_admin: std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        })
    }
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

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A fresh database and the app serving it.
struct Target {
    backend: Backend,
    url: String,
    sqlite_file: Option<std::path::PathBuf>,
    postgres_name: Option<String>,
    postgres_admin: String,
    base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    /// A pool of its own for fixtures and the direct queries.
    direct: Db,
    dir: tempfile::TempDir,
}

impl Target {
    async fn start(backend: Backend, config: &Config) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (url, sqlite_file, postgres_name) = match backend {
            Backend::Sqlite => {
                let file = dir.path().join("bench.db");
                (format!("sqlite://{}", file.display()), Some(file), None)
            }
            Backend::Postgres => {
                let name = format!("forecastlab_bench_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&config.postgres_admin)
                    .await
                    .with_context(|| {
                        format!("PostgreSQL is not reachable at {}", config.postgres_admin)
                    })?;
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await?;
                (
                    replace_database(&config.postgres_admin, &name),
                    None,
                    Some(name),
                )
            }
        };
        let artifacts = dir.path().join("artifacts");
        let vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), url.clone()),
            ("APP_ENV".into(), "testing".into()),
            ("JOBS_WORKERS".into(), "0".into()),
            ("LOG_LEVEL".into(), "error".into()),
            (
                "FORECAST_MODEL_ARTIFACTS_DIR".into(),
                artifacts.join("models").display().to_string(),
            ),
            (
                "REGISTRY_ARTIFACT_ROOT".into(),
                artifacts.join("registry").display().to_string(),
            ),
        ];
        let settings = Settings::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })?;
        let state = cli::prepare(settings).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(error) = cli::serve_on(state, listener, shutdown).await {
                eprintln!("server stopped with an error: {error:#}");
            }
        });
        let direct = Db::connect(&url).await?;
        Ok(Self {
            backend,
            url,
            sqlite_file,
            postgres_name,
            postgres_admin: config.postgres_admin.clone(),
            base_url: format!("http://{addr}"),
            shutdown: Some(tx),
            direct,
            dir,
        })
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.direct.close().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(name) = self.postgres_name.take() {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&self.postgres_admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }

    fn name(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }

    async fn exec(&self, sql: &str) -> anyhow::Result<()> {
        execute_script(&self.direct, sql)
            .await
            .with_context(|| format!("running {}", &sql[..sql.len().min(80)]))
    }

    async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        Ok(with_db!(&self.direct, pool => {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
        })?)
    }

    async fn empty_sales(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Postgres => self.exec("TRUNCATE sales_daily").await,
            Backend::Sqlite => self.exec("DELETE FROM sales_daily").await,
        }
    }

    async fn id_map(&self, sql: &str) -> anyhow::Result<HashMap<String, i64>> {
        let rows: Vec<(String, i64)> = with_db!(&self.direct, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })?;
        Ok(rows.into_iter().collect())
    }
}

/// Stores, products and enough calendar days.
async fn dimensions(target: &Target, days: usize) -> anyhow::Result<()> {
    let stores: Vec<String> = (0..STORES)
        .map(|s| format!("('S{s:03}', 'Store {s}', 'Region {}')", s % 5))
        .collect();
    target
        .exec(&format!(
            "INSERT INTO store (code, name, region) VALUES {}",
            stores.join(",")
        ))
        .await?;
    let products: Vec<String> = (0..PRODUCTS)
        .map(|p| {
            format!(
                "('SKU-{p:05}', 'Product {p}', 'Cat {}', {})",
                p % 10,
                money(price_cents(p))
            )
        })
        .collect();
    target
        .exec(&format!(
            "INSERT INTO product (sku, name, category, base_price) VALUES {}",
            products.join(",")
        ))
        .await?;
    let all: Vec<NaiveDate> = (0..days).map(day).collect();
    for chunk in all.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|d| {
                format!(
                    "('{}', {}, {}, {}, {}, FALSE)",
                    d.format("%Y-%m-%d"),
                    d.weekday().num_days_from_monday(),
                    d.month(),
                    (d.month() - 1) / 3 + 1,
                    d.year()
                )
            })
            .collect();
        target
            .exec(&format!(
                "INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) VALUES {}",
                values.join(",")
            ))
            .await?;
    }
    Ok(())
}

#[derive(Debug)]
struct IngestResult {
    backend: &'static str,
    rows: usize,
    api: Duration,
    native_name: &'static str,
    native: Option<Duration>,
}

async fn ingest_bench(
    target: &Target,
    config: &Config,
    client: &reqwest::Client,
) -> anyhow::Result<IngestResult> {
    let rows = config.ingest_rows;
    let bodies = ingest_bodies(rows);
    let stores = target
        .id_map("SELECT code, CAST(id AS BIGINT) FROM store")
        .await?;
    let products = target
        .id_map("SELECT sku, CAST(id AS BIGINT) FROM product")
        .await?;
    let url = format!("{}/ingest/sales-daily", target.base_url);

    let mut api = Vec::new();
    for _ in 0..config.reps {
        target.empty_sales().await?;
        let started = Instant::now();
        for body in &bodies {
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            let status = response.status();
            let json: Value = response.json().await?;
            if !status.is_success() || json["rejected_count"] != 0 {
                bail!("ingest failed: {status} {json}");
            }
        }
        api.push(started.elapsed());
        let stored = target.count("SELECT COUNT(*) FROM sales_daily").await?;
        if stored != rows as i64 {
            bail!("API ingest stored {stored} rows, expected {rows}");
        }
    }

    let (native_name, native) = match &target.direct {
        Db::Postgres(pool) => {
            let data = csv(rows, &stores, &products, false);
            let mut times = Vec::new();
            for _ in 0..config.reps {
                target.empty_sales().await?;
                let mut connection = pool.acquire().await?;
                let started = Instant::now();
                let mut copy = connection
                    .copy_in_raw(
                        "COPY sales_daily (date, store_id, product_id, quantity, unit_price, \
                         total_amount) FROM STDIN WITH (FORMAT csv)",
                    )
                    .await?;
                copy.send(data.as_slice()).await?;
                copy.finish().await?;
                times.push(started.elapsed());
                drop(connection);
                let stored = target.count("SELECT COUNT(*) FROM sales_daily").await?;
                if stored != rows as i64 {
                    bail!("COPY stored {stored} rows, expected {rows}");
                }
            }
            ("COPY FROM STDIN", Some(median(times)))
        }
        Db::Sqlite(_) => {
            let available = Command::new("sqlite3")
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|status| status.success())
                .unwrap_or(false);
            if !available {
                println!("  sqlite3 CLI not found on PATH: the .import baseline is skipped");
                ("sqlite3 .import", None)
            } else {
                let data = csv(rows, &stores, &products, true);
                let csv_path = target.dir.path().join("rows.csv");
                std::fs::write(&csv_path, &data)?;
                let file = target.sqlite_file.clone().expect("sqlite file");
                let mut times = Vec::new();
                for _ in 0..config.reps {
                    target.empty_sales().await?;
                    let script = format!(
                        ".timeout 60000\n.mode csv\n.import '{}' sales_daily\n",
                        csv_path.display()
                    );
                    let started = Instant::now();
                    let mut child = Command::new("sqlite3")
                        .arg(&file)
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()?;
                    child
                        .stdin
                        .take()
                        .context("sqlite3 stdin")?
                        .write_all(script.as_bytes())?;
                    let output = child.wait_with_output()?;
                    times.push(started.elapsed());
                    if !output.status.success() || !output.stderr.is_empty() {
                        bail!(
                            "sqlite3 .import failed: {}",
                            String::from_utf8_lossy(&output.stderr)
                        );
                    }
                    let stored = target.count("SELECT COUNT(*) FROM sales_daily").await?;
                    if stored != rows as i64 {
                        bail!(".import stored {stored} rows, expected {rows}");
                    }
                }
                ("sqlite3 .import", Some(median(times)))
            }
        }
    };
    Ok(IngestResult {
        backend: target.name(),
        rows,
        api: median(api),
        native_name,
        native,
    })
}

#[derive(Debug)]
struct QueryResult {
    backend: &'static str,
    query: &'static str,
    api: Duration,
    direct: Duration,
}

async fn analytics_bench(
    target: &Target,
    config: &Config,
    client: &reqwest::Client,
) -> anyhow::Result<Vec<QueryResult>> {
    let days = config.analytics_rows.div_ceil(STORES * PRODUCTS);
    let start = day(0);
    let end = day(days - 1);
    target.empty_sales().await?;
    let loaded = Instant::now();
    // One statement on both backends: every (day, store, product).
    let q = "((s.id * 7 + p.id * 13 + c.day_of_week * 3 + c.month) % 20)";
    target
        .exec(&format!(
            "INSERT INTO sales_daily (date, store_id, product_id, quantity, unit_price, total_amount) \
             SELECT c.date, s.id, p.id, {q}, p.base_price, p.base_price * {q} \
             FROM calendar c CROSS JOIN store s CROSS JOIN product p \
             WHERE c.date >= '{start}' AND c.date <= '{end}'"
        ))
        .await?;
    match target.backend {
        Backend::Postgres => target.exec("VACUUM ANALYZE sales_daily").await?,
        Backend::Sqlite => target.exec("ANALYZE").await?,
    }
    let rows = target.count("SELECT COUNT(*) FROM sales_daily").await?;
    println!(
        "  {}: loaded {rows} sales rows ({start} .. {end}) in {:.1} s",
        target.name(),
        loaded.elapsed().as_secs_f64()
    );

    let mut out = Vec::new();
    let range = format!("start_date={start}&end_date={end}");
    let cases: [(&'static str, String, String, bool); 2] = [
        (
            "GET /analytics/kpis",
            format!("{}/analytics/kpis?{range}", target.base_url),
            bench_support::kpi_statement(target.backend),
            false,
        ),
        (
            "GET /analytics/drilldowns?dimension=store",
            format!(
                "{}/analytics/drilldowns?dimension=store&{range}",
                target.base_url
            ),
            bench_support::store_drilldown_statement(target.backend),
            true,
        ),
    ];
    for (name, url, sql, limited) in cases {
        let mut api = Vec::new();
        let mut direct = Vec::new();
        for rep in 0..=config.reps {
            let started = Instant::now();
            let response = client.get(&url).send().await?;
            let status = response.status();
            let body: Value = response.json().await?;
            let elapsed = started.elapsed();
            if !status.is_success() {
                bail!("{name} failed: {status} {body}");
            }
            let started = Instant::now();
            let fetched = with_db!(&target.direct, pool => {
                let mut query = sqlx::query(&sql).bind(start).bind(end);
                if limited {
                    query = query.bind(20_i64);
                }
                query.fetch_all(pool).await?.len()
            });
            let direct_elapsed = started.elapsed();
            if fetched == 0 {
                bail!("{name}: the direct query returned nothing");
            }
            if rep > 0 {
                api.push(elapsed);
                direct.push(direct_elapsed);
            }
        }
        out.push(QueryResult {
            backend: target.name(),
            query: name,
            api: median(api),
            direct: median(direct),
        });
    }
    Ok(out)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let config = Config::from_env()?;
    forecastlab_server::telemetry::init("error", "console");
    println!(
        "data_platform benchmark: ingest {} rows (batches of {BATCH}), analytics over {} rows, \
         median of {} repetitions",
        config.ingest_rows, config.analytics_rows, config.reps
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let mut ingest = Vec::new();
    let mut queries = Vec::new();
    for &backend in &config.backends {
        let target = Target::start(backend, &config).await?;
        println!(
            "- {} ({})",
            target.name(),
            forecastlab_server::config::redact_url(&target.url)
        );
        let days = config
            .ingest_rows
            .max(config.analytics_rows)
            .div_ceil(STORES * PRODUCTS);
        let outcome = async {
            dimensions(&target, days).await?;
            ingest.push(ingest_bench(&target, &config, &client).await?);
            queries.extend(analytics_bench(&target, &config, &client).await?);
            anyhow::Ok(())
        }
        .await;
        target.stop().await;
        outcome?;
    }

    println!();
    println!("Ingest (rows/s, higher is better; target: API >= 1/3 of the native loader)");
    println!(
        "{:<11} {:>9} {:>12} {:>12} {:<17} {:>12} {:>8}",
        "backend", "rows", "API s", "API rows/s", "native", "native rows/s", "API/native"
    );
    for r in &ingest {
        let api_rate = r.rows as f64 / r.api.as_secs_f64();
        match r.native {
            Some(native) => {
                let native_rate = r.rows as f64 / native.as_secs_f64();
                println!(
                    "{:<11} {:>9} {:>12.3} {:>12.0} {:<17} {:>12.0} {:>8.2}",
                    r.backend,
                    r.rows,
                    r.api.as_secs_f64(),
                    api_rate,
                    r.native_name,
                    native_rate,
                    api_rate / native_rate
                );
            }
            None => println!(
                "{:<11} {:>9} {:>12.3} {:>12.0} {:<17} {:>12} {:>8}",
                r.backend,
                r.rows,
                r.api.as_secs_f64(),
                api_rate,
                r.native_name,
                "n/a",
                "n/a"
            ),
        }
    }
    println!();
    println!(
        "Analytics over {} rows (ms, median; target: API <= 1.5 x the same SQL run directly)",
        config.analytics_rows
    );
    println!(
        "{:<11} {:<42} {:>10} {:>10} {:>7}",
        "backend", "endpoint", "API ms", "SQL ms", "ratio"
    );
    for q in &queries {
        println!(
            "{:<11} {:<42} {:>10.1} {:>10.1} {:>7.2}",
            q.backend,
            q.query,
            ms(q.api),
            ms(q.direct),
            q.api.as_secs_f64() / q.direct.as_secs_f64()
        );
    }
    Ok(())
}
