//! Shared harness for the black-box tests: start the real app on a random
//! port against a fresh SQLite file or a fresh PostgreSQL database, talk to
//! it over HTTP, and clean up afterwards.
//!
//! Write a test once as `async fn name(backend: Backend)` and list it in
//! [`both_backends!`] to run it on both databases.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use forecastlab_server::{cli, config::Settings, Db};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot};

pub mod agents;
pub mod browser;
pub mod fixtures;
pub mod jobs;
pub mod json;
pub mod pgvector;
#[path = "../../server/tests/support/s3_servers.rs"]
pub mod s3;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the local PostgreSQL service.
    Postgres,
    /// A fresh database on a private PostgreSQL server with the pgvector
    /// extension ([`pgvector`]); list such tests in [`pgvector_backend!`],
    /// which skips them when the server is not configured.
    PgVector,
}

/// Admin URL of the PostgreSQL service (`TEST_POSTGRES_URL`, default the
/// local service with trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A running app and what it needs to be torn down.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// Direct pool to the same database, for fixtures and assertions.
    pub db: Db,
    /// Which backend this is.
    pub backend: Backend,
    /// Temporary directory holding the SQLite file and artifacts.
    pub dir: tempfile::TempDir,
    /// Database URL the app uses.
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    /// `(admin URL, database)` to drop afterwards.
    postgres_database: Option<(String, String)>,
}

/// A response: status, headers and the parsed JSON body (`Value::Null` when
/// the body is empty or not JSON).
#[derive(Debug)]
pub struct TestResponse {
    /// Status code.
    pub status: StatusCode,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Parsed body.
    pub body: Value,
    /// Raw body text.
    pub text: String,
    /// The request that got this response (method, path and the start of
    /// the body), for assertion messages.
    pub request: String,
}

impl TestResponse {
    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an RFC 7807 problem with `status` and `code`; returns the body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status} {code}, got {} for {}: {}",
            self.status,
            self.request,
            self.text
        );
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "{}: {}", self.request, self.text);
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"]
            .as_str()
            .unwrap_or("")
            .starts_with("/errors/"));
        assert!(self.body["detail"].is_string());
        assert!(self.body["request_id"].is_string());
        &self.body
    }

    /// Asserts a 2xx status with a helpful message; returns the body.
    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert!(
            self.status.is_success(),
            "expected success, got {} for {}: {}",
            self.status,
            self.request,
            self.text
        );
        &self.body
    }

    /// Asserts exactly `status`; returns the body.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "for {}: {}",
            self.request,
            self.text
        );
        &self.body
    }

    /// Asserts a problem with `status` and `code` whose `detail` contains
    /// `needle`; returns the body.
    #[track_caller]
    pub fn assert_problem_mentions(&self, status: u16, code: &str, needle: &str) -> &Value {
        let body = self.assert_problem(status, code);
        let detail = body["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains(needle),
            "expected {needle:?} in the detail for {}: {detail}",
            self.request
        );
        body
    }

    /// Asserts a 422 `VALIDATION_ERROR` whose `errors` name `field` (other
    /// fields may be named too); returns the body.
    #[track_caller]
    pub fn assert_invalid(&self, field: &str) -> &Value {
        let body = self.assert_problem(422, "VALIDATION_ERROR");
        let fields = self.error_fields();
        assert!(
            fields.iter().any(|f| f == field),
            "expected an error on {field}, got {fields:?} for {}",
            self.request
        );
        body
    }

    /// Asserts a 422 `VALIDATION_ERROR` whose `errors` name exactly
    /// `fields`, in this order; returns the body.
    #[track_caller]
    pub fn assert_invalid_fields(&self, fields: &[&str]) -> &Value {
        let body = self.assert_problem(422, "VALIDATION_ERROR");
        assert_eq!(self.error_fields(), fields, "for {}", self.request);
        body
    }

    /// The `field` members of a 422 problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// Starts the app on `backend` with default settings.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts the app on `backend` with extra environment-style settings.
    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        match Self::try_spawn(backend, overrides).await {
            Ok(app) => app,
            Err(error) => panic!("cannot start the test app on {backend:?}: {error:#}"),
        }
    }

    /// Starts the app on an existing database at `database_url` (for tests
    /// that run a database server of their own); nothing is dropped
    /// afterwards.
    pub async fn spawn_at(database_url: &str, overrides: &[(&str, &str)]) -> Self {
        let backend = if database_url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        match Self::start(backend, dir, database_url.to_owned(), None, overrides).await {
            Ok(app) => app,
            Err(error) => panic!("cannot start the test app on {database_url}: {error:#}"),
        }
    }

    async fn try_spawn(backend: Backend, overrides: &[(&str, &str)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (database_url, postgres_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("forecastlab.db").display()),
                None,
            ),
            Backend::Postgres | Backend::PgVector => {
                let admin = match backend {
                    Backend::PgVector => pgvector::admin_url()?,
                    _ => postgres_admin_url(),
                };
                let name = format!("forecastlab_test_{}", uuid::Uuid::new_v4().simple());
                create_postgres_database(&admin, &name).await?;
                let url = replace_database(&admin, &name);
                (url, Some((admin, name)))
            }
        };
        Self::start(backend, dir, database_url, postgres_database, overrides).await
    }

    async fn start(
        backend: Backend,
        dir: tempfile::TempDir,
        database_url: String,
        postgres_database: Option<(String, String)>,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let artifacts: PathBuf = dir.path().join("artifacts");
        let mut vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), database_url.clone()),
            ("APP_ENV".into(), "testing".into()),
            (
                "FORECAST_MODEL_ARTIFACTS_DIR".into(),
                artifacts.join("models").display().to_string(),
            ),
            (
                "REGISTRY_ARTIFACT_ROOT".into(),
                artifacts.join("registry").display().to_string(),
            ),
            (
                "SHOWCASE_EXPORT_ROOT".into(),
                artifacts.join("showcase").display().to_string(),
            ),
            ("LOG_LEVEL".into(), "warn".into()),
        ];
        for (key, value) in overrides {
            vars.retain(|(k, _)| k != key);
            vars.push(((*key).to_owned(), (*value).to_owned()));
        }
        let settings = Settings::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })?;
        forecastlab_server::telemetry::init(&settings.log_level, &settings.log_format);
        let state = cli::prepare(settings).await?;
        let db = state.db.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(error) = cli::serve_on(state, listener, shutdown).await {
                eprintln!("test server stopped with an error: {error:#}");
            }
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()?;
        Ok(Self {
            base_url: format!("http://{addr}"),
            client,
            db,
            backend,
            dir,
            database_url,
            shutdown: Some(tx),
            postgres_database,
        })
    }

    /// Asks the server to shut down gracefully (as SIGTERM does): it stops
    /// accepting connections and lets in-flight requests finish.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends a request with an optional JSON body.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> TestResponse {
        let description = describe(&method, path, body.map(Value::to_string));
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request failed");
        into_test_response(response, description).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.request(Method::POST, path, Some(body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> TestResponse {
        self.request(Method::PUT, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.request(Method::DELETE, path, None).await
    }

    /// Sends a raw body with a content type (for malformed-input tests).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        let description = describe(&method, path, Some(format!("({content_type})")));
        let response = self
            .client
            .request(method, self.url(path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request failed");
        into_test_response(response, description).await
    }

    /// Executes SQL statements (separated by `;`) directly on the database.
    pub async fn exec(&self, sql: &str) {
        let result = forecastlab_server::db::execute_script(&self.db, sql).await;
        if let Err(error) = result {
            panic!("fixture SQL failed: {error}\n{sql}");
        }
    }

    /// Runs a scalar `SELECT` returning one `i64`.
    pub async fn count(&self, sql: &str) -> i64 {
        forecastlab_server::with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
        })
        .unwrap_or_else(|error| panic!("count query failed: {error}\n{sql}"))
    }

    /// The number of rows in `table`.
    pub async fn rows(&self, table: &str) -> i64 {
        self.count(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
            .await
    }
}

/// `METHOD path` followed by at most 300 characters of `body`.
fn describe(method: &Method, path: &str, body: Option<String>) -> String {
    match body {
        Some(body) if body.chars().count() > 300 => {
            let start: String = body.chars().take(300).collect();
            format!("{method} {path} {start}…")
        }
        Some(body) => format!("{method} {path} {body}"),
        None => format!("{method} {path}"),
    }
}

async fn into_test_response(response: reqwest::Response, request: String) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    TestResponse {
        status,
        headers,
        body,
        text,
        request,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin, name)) = self.postgres_database.take() {
            // Drop runs inside the test's runtime; do the async cleanup on a
            // runtime of its own on another thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(drop_postgres_database(&admin, &name))
            })
            .join();
        }
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

async fn admin_connection(url: &str) -> anyhow::Result<sqlx::PgConnection> {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.with_context(|| {
        format!(
            "PostgreSQL is not reachable at {url}. Start it (e.g. `pg_ctlcluster <version> main start`, \
             or `bash .ci/run` which starts it) or point TEST_POSTGRES_URL at a server; \
             the PostgreSQL half of the suite never skips silently."
        )
    })
}

async fn create_postgres_database(admin: &str, name: &str) -> anyhow::Result<()> {
    let mut connection = admin_connection(admin).await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut connection)
        .await
        .with_context(|| format!("creating database {name}"))?;
    Ok(())
}

async fn drop_postgres_database(admin: &str, name: &str) {
    if let Ok(mut connection) = admin_connection(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut connection)
            .await;
    }
}

/// Generates a `sqlite` and a `postgres` test module calling each listed
/// `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Generates a `pgvector` test module calling each listed `async fn
/// name(backend: Backend)` with [`Backend::PgVector`]; each test prints
/// why and passes when `PGVECTOR_PG_BIN` is not set.
#[macro_export]
macro_rules! pgvector_backend {
    ($($name:ident),* $(,)?) => {
        mod pgvector {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::pgvector::skip(stringify!($name)) {
                        return;
                    }
                    super::$name($crate::Backend::PgVector).await;
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h:1/db?sslmode=disable", "y"),
            "postgres://u:p@h:1/y?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "z"), "postgres://h/z");
    }
}
