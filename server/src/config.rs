//! Typed settings, read once from environment variables with the upstream
//! names (case-insensitive in spirit: we read the upper-case form).

use std::{net::SocketAddr, path::PathBuf, str::FromStr};

use anyhow::{bail, Context};

use crate::env::Env;

/// Default address when neither `--addr` nor `FORECASTLAB_ADDR` is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8123";
/// Default database: an SQLite file created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/forecastlab.db";

/// Deployment environment (`APP_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development (the default).
    Development,
    /// Automated tests.
    Testing,
    /// Pre-production.
    Staging,
    /// Production: the seeder refuses to write unless allowed.
    Production,
}

impl FromStr for AppEnv {
    type Err = anyhow::Error;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "development" => Ok(Self::Development),
            "testing" => Ok(Self::Testing),
            "staging" => Ok(Self::Staging),
            "production" => Ok(Self::Production),
            other => {
                bail!("APP_ENV must be development, testing, staging or production, not {other:?}")
            }
        }
    }
}

/// Every setting the server reads. Built once at start-up and shared
/// read-only; secrets never appear in `Debug` output.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// `APP_ENV`.
    pub app_env: AppEnv,
    /// `LOG_LEVEL` (a `tracing` filter directive).
    pub log_level: String,
    /// `LOG_FORMAT`: `json` or `console`.
    pub log_format: String,
    /// Maximum request body size in bytes (`MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// `INGEST_MAX_ROWS`: most rows one ingest request may carry.
    pub ingest_max_rows: usize,
    /// `ANALYTICS_MAX_DATE_RANGE_DAYS`.
    pub analytics_max_date_range_days: i64,
    /// `SEEDER_DEFAULT_SEED`.
    pub seeder_default_seed: u64,
    /// `SEEDER_DEFAULT_STORES`.
    pub seeder_default_stores: u32,
    /// `SEEDER_DEFAULT_PRODUCTS`.
    pub seeder_default_products: u32,
    /// `SEEDER_BATCH_SIZE`: rows per insert batch.
    pub seeder_batch_size: usize,
    /// `SEEDER_ENABLE_PROGRESS`.
    pub seeder_enable_progress: bool,
    /// `SEEDER_ALLOW_PRODUCTION`.
    pub seeder_allow_production: bool,
    /// `FEATURE_MAX_LOOKBACK_DAYS`.
    pub feature_max_lookback_days: i64,
    /// `FEATURE_MAX_LAG` (enforced: larger lags are a 422).
    pub feature_max_lag: usize,
    /// `FEATURE_MAX_WINDOW` (enforced: larger windows are a 422).
    pub feature_max_window: usize,
    /// `FORECAST_RANDOM_SEED`.
    pub forecast_random_seed: u64,
    /// `FORECAST_DEFAULT_HORIZON`.
    pub forecast_default_horizon: usize,
    /// `FORECAST_MAX_HORIZON`.
    pub forecast_max_horizon: usize,
    /// `FORECAST_MODEL_ARTIFACTS_DIR`.
    pub forecast_model_artifacts_dir: PathBuf,
    /// `FORECAST_ENABLE_LIGHTGBM`.
    pub forecast_enable_lightgbm: bool,
    /// `FORECAST_ENABLE_XGBOOST`.
    pub forecast_enable_xgboost: bool,
    /// `FORECAST_ENABLE_RANDOM_FOREST`.
    pub forecast_enable_random_forest: bool,
    /// `BACKTEST_MAX_SPLITS`.
    pub backtest_max_splits: usize,
    /// `BACKTEST_DEFAULT_MIN_TRAIN_SIZE`.
    pub backtest_default_min_train_size: usize,
    /// `BACKTEST_MAX_GAP`.
    pub backtest_max_gap: usize,
    /// `REGISTRY_ARTIFACT_ROOT`.
    pub registry_artifact_root: PathBuf,
    /// `ARTIFACT_STORE_URL`: `s3://bucket/prefix` keeps every artifact in an
    /// S3-compatible bucket; unset, artifacts live in the two local
    /// directories above.
    pub artifact_store_url: Option<String>,
    /// `ARTIFACT_STORE_ENDPOINT`: the endpoint URL of an S3-compatible
    /// server (default: AWS, or `AWS_ENDPOINT_URL`).
    pub artifact_store_endpoint: Option<String>,
    /// `AWS_ACCESS_KEY_ID` of the S3 artifact store (never logged).
    pub aws_access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY` of the S3 artifact store (never logged).
    pub aws_secret_access_key: Option<String>,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`) of the S3 artifact store.
    pub aws_region: Option<String>,
    /// `REGISTRY_DUPLICATE_POLICY`: allow, deny or detect.
    pub registry_duplicate_policy: String,
    /// `JOBS_WORKERS`: size of the in-process worker pool (0 disables it).
    pub jobs_workers: usize,
    /// `JOBS_POLL_INTERVAL_MS`: how often an idle worker looks for work.
    pub jobs_poll_interval_ms: u64,
    /// `JOBS_HEARTBEAT_SECONDS`: how often a running job's worker heartbeats.
    pub jobs_heartbeat_seconds: u64,
    /// `JOBS_STALE_AFTER_SECONDS`: a running job without a heartbeat for this
    /// long is considered orphaned and requeued.
    pub jobs_stale_after_seconds: u64,
    /// `JOBS_BATCH_SHARD_SIZE`: series per shard of a batch job; a batch
    /// over more series is split into shard jobs that any worker claims
    /// (0 never splits).
    pub jobs_batch_shard_size: usize,
    /// `JOBS_MAX_ATTEMPTS`: how many times a job may be claimed.
    pub jobs_max_attempts: u32,
    /// `AUTH_ENABLED`: require API keys (default: on in production and
    /// staging, off otherwise).
    pub auth_enabled: bool,
    /// `REQUEST_TIMEOUT_SECONDS`: deadline of a synchronous request.
    pub request_timeout_seconds: u64,
    /// `REQUEST_TIMEOUT_LONG_SECONDS`: deadline of the routes listed in
    /// `http::timeout::LONG_ROUTES` (seeder writes, train, backtest).
    pub request_timeout_long_seconds: u64,
    /// `BODY_READ_TIMEOUT_SECONDS`: longest time to receive a request body.
    pub body_read_timeout_seconds: u64,
    /// `HEADER_READ_TIMEOUT_SECONDS`: longest time to receive request
    /// headers (and to keep an idle connection).
    pub header_read_timeout_seconds: u64,
    /// `SHUTDOWN_GRACE_SECONDS`: how long in-flight requests may finish
    /// after SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// `SEEDER_MAX_ROWS_PER_REQUEST`: most sales rows (stores × products ×
    /// days) one seeder request may generate synchronously.
    pub seeder_max_rows_per_request: u64,
    /// `SEEDER_MAX_ROWS_PER_JOB`: most sales rows one `seed` job may
    /// generate in the background.
    pub seeder_max_rows_per_job: u64,
    /// `DATABASE_MAX_CONNECTIONS`: pool size (default 16 on PostgreSQL,
    /// 8 readers on SQLite).
    pub database_max_connections: Option<u32>,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECONDS`: how long a request waits for a
    /// connection before answering 503.
    pub database_acquire_timeout_seconds: u64,
    /// The agents' settings (`AGENT_*`, provider keys and base URLs).
    pub agents: crate::features::agents::settings::AgentSettings,
    /// `OPS_STALE_AFTER_DAYS`: an alias (or a series' champion) whose run
    /// ends more than this many days before the series' newest sales day
    /// is stale (a retraining candidate).
    pub ops_stale_after_days: i64,
    /// `SHOWCASE_EXPORT_ROOT`: where `POST /demo/workspaces/{id}/export`
    /// writes its bundles.
    pub showcase_export_root: PathBuf,
    /// `DEMO_HITL_WINDOW_SECONDS`: how long the showcase's HITL step waits
    /// for an operator decision before approving automatically.
    pub demo_hitl_window_seconds: f64,
    /// The RAG settings (`RAG_*`, `OLLAMA_EMBEDDING_MODEL`).
    pub rag: crate::features::rag::settings::RagSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database", &redact_url(&self.database_url))
            .field("app_env", &self.app_env)
            .field("jobs_workers", &self.jobs_workers)
            .finish_non_exhaustive()
    }
}

/// Hides any password in a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Settings {
    /// Reads every setting from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let env = Env(&lookup);
        Ok(Self {
            database_url: env.string("DATABASE_URL", DEFAULT_DATABASE_URL),
            app_env: env.parse("APP_ENV", AppEnv::Development)?,
            log_level: env.string("LOG_LEVEL", "info"),
            log_format: env.string("LOG_FORMAT", "console"),
            max_body_bytes: env.parse("MAX_BODY_BYTES", 16 * 1024 * 1024)?,
            ingest_max_rows: env.parse("INGEST_MAX_ROWS", 10_000)?,
            analytics_max_date_range_days: env.parse("ANALYTICS_MAX_DATE_RANGE_DAYS", 730)?,
            seeder_default_seed: env.parse("SEEDER_DEFAULT_SEED", 42)?,
            seeder_default_stores: env.parse("SEEDER_DEFAULT_STORES", 10)?,
            seeder_default_products: env.parse("SEEDER_DEFAULT_PRODUCTS", 50)?,
            seeder_batch_size: env.parse("SEEDER_BATCH_SIZE", 5_000)?,
            seeder_enable_progress: env.flag("SEEDER_ENABLE_PROGRESS", true)?,
            seeder_allow_production: env.flag("SEEDER_ALLOW_PRODUCTION", false)?,
            feature_max_lookback_days: env.parse("FEATURE_MAX_LOOKBACK_DAYS", 1095)?,
            feature_max_lag: env.parse("FEATURE_MAX_LAG", 365)?,
            feature_max_window: env.parse("FEATURE_MAX_WINDOW", 90)?,
            forecast_random_seed: env.parse("FORECAST_RANDOM_SEED", 42)?,
            forecast_default_horizon: env.parse("FORECAST_DEFAULT_HORIZON", 14)?,
            forecast_max_horizon: env.parse("FORECAST_MAX_HORIZON", 90)?,
            forecast_model_artifacts_dir: env
                .string("FORECAST_MODEL_ARTIFACTS_DIR", "./artifacts/models")
                .into(),
            forecast_enable_lightgbm: env.flag("FORECAST_ENABLE_LIGHTGBM", false)?,
            forecast_enable_xgboost: env.flag("FORECAST_ENABLE_XGBOOST", false)?,
            forecast_enable_random_forest: env.flag("FORECAST_ENABLE_RANDOM_FOREST", false)?,
            backtest_max_splits: env.parse("BACKTEST_MAX_SPLITS", 20)?,
            backtest_default_min_train_size: env.parse("BACKTEST_DEFAULT_MIN_TRAIN_SIZE", 30)?,
            backtest_max_gap: env.parse("BACKTEST_MAX_GAP", 30)?,
            registry_artifact_root: env
                .string("REGISTRY_ARTIFACT_ROOT", "./artifacts/registry")
                .into(),
            artifact_store_url: env.optional("ARTIFACT_STORE_URL")?,
            artifact_store_endpoint: env.optional("ARTIFACT_STORE_ENDPOINT")?,
            aws_access_key_id: env.optional("AWS_ACCESS_KEY_ID")?,
            aws_secret_access_key: env.optional("AWS_SECRET_ACCESS_KEY")?,
            aws_region: env
                .optional("AWS_REGION")?
                .or(env.optional("AWS_DEFAULT_REGION")?),
            registry_duplicate_policy: env.string("REGISTRY_DUPLICATE_POLICY", "detect"),
            jobs_workers: env.parse("JOBS_WORKERS", 2)?,
            jobs_poll_interval_ms: env.parse("JOBS_POLL_INTERVAL_MS", 200)?,
            jobs_heartbeat_seconds: env.parse("JOBS_HEARTBEAT_SECONDS", 5)?,
            jobs_stale_after_seconds: env.parse("JOBS_STALE_AFTER_SECONDS", 30)?,
            jobs_max_attempts: env.parse("JOBS_MAX_ATTEMPTS", 3)?,
            jobs_batch_shard_size: env.parse("JOBS_BATCH_SHARD_SIZE", 50)?,
            auth_enabled: env.flag("AUTH_ENABLED", app_env_default_auth(&env)?)?,
            request_timeout_seconds: env.parse("REQUEST_TIMEOUT_SECONDS", 30)?,
            request_timeout_long_seconds: env.parse("REQUEST_TIMEOUT_LONG_SECONDS", 120)?,
            body_read_timeout_seconds: env.parse("BODY_READ_TIMEOUT_SECONDS", 30)?,
            header_read_timeout_seconds: env.parse("HEADER_READ_TIMEOUT_SECONDS", 15)?,
            shutdown_grace_seconds: env.parse("SHUTDOWN_GRACE_SECONDS", 30)?,
            seeder_max_rows_per_request: env.parse("SEEDER_MAX_ROWS_PER_REQUEST", 2_000_000)?,
            seeder_max_rows_per_job: env.parse("SEEDER_MAX_ROWS_PER_JOB", 200_000_000)?,
            database_max_connections: env.optional("DATABASE_MAX_CONNECTIONS")?,
            database_acquire_timeout_seconds: env.parse("DATABASE_ACQUIRE_TIMEOUT_SECONDS", 5)?,
            agents: crate::features::agents::settings::AgentSettings::from_env(&env)?,
            ops_stale_after_days: env.parse("OPS_STALE_AFTER_DAYS", 7)?,
            showcase_export_root: env
                .string("SHOWCASE_EXPORT_ROOT", "./artifacts/showcase")
                .into(),
            demo_hitl_window_seconds: env.parse("DEMO_HITL_WINDOW_SECONDS", 10.0)?,
            rag: crate::features::rag::settings::RagSettings::from_env(&env)?,
        })
    }

    /// True when the runtime flag named like `forecast_enable_lightgbm` is on.
    /// Unknown flags are off.
    pub fn flag_enabled(&self, flag: &str) -> bool {
        match flag {
            "forecast_enable_lightgbm" => self.forecast_enable_lightgbm,
            "forecast_enable_xgboost" => self.forecast_enable_xgboost,
            "forecast_enable_random_forest" => self.forecast_enable_random_forest,
            _ => false,
        }
    }

    /// The listen address: `FORECASTLAB_ADDR`, else `API_HOST`:`API_PORT`
    /// when either is set, else [`DEFAULT_ADDR`].
    pub fn listen_addr_from_env() -> anyhow::Result<SocketAddr> {
        if let Ok(addr) = std::env::var("FORECASTLAB_ADDR") {
            return addr
                .parse()
                .with_context(|| format!("FORECASTLAB_ADDR={addr:?} is not host:port"));
        }
        let host = std::env::var("API_HOST").ok();
        let port = std::env::var("API_PORT").ok();
        if host.is_none() && port.is_none() {
            return Ok(DEFAULT_ADDR.parse()?);
        }
        let addr = format!(
            "{}:{}",
            host.as_deref().unwrap_or("127.0.0.1"),
            port.as_deref().unwrap_or("8123")
        );
        addr.parse()
            .with_context(|| format!("API_HOST/API_PORT give {addr:?}, not host:port"))
    }
}

/// Authentication is on by default where real data lives.
fn app_env_default_auth(env: &Env<'_>) -> anyhow::Result<bool> {
    let app_env: AppEnv = env.parse("APP_ENV", AppEnv::Development)?;
    Ok(matches!(app_env, AppEnv::Production | AppEnv::Staging))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_upstream() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.analytics_max_date_range_days, 730);
        assert_eq!(s.feature_max_lag, 365);
        assert!(!s.forecast_enable_lightgbm);
        assert_eq!(s.app_env, AppEnv::Development);
    }

    #[test]
    fn flags_and_numbers_parse_or_fail_loudly() {
        let s = settings(&[("FORECAST_ENABLE_LIGHTGBM", "TRUE"), ("JOBS_WORKERS", "4")]).unwrap();
        assert!(s.flag_enabled("forecast_enable_lightgbm"));
        assert!(!s.flag_enabled("forecast_enable_xgboost"));
        assert_eq!(s.jobs_workers, 4);
        assert!(settings(&[("JOBS_WORKERS", "many")]).is_err());
        assert!(settings(&[("FORECAST_ENABLE_XGBOOST", "maybe")]).is_err());
        assert!(settings(&[("APP_ENV", "moon")]).is_err());
    }

    #[test]
    fn auth_defaults_follow_the_environment() {
        assert!(!settings(&[]).unwrap().auth_enabled);
        assert!(settings(&[("APP_ENV", "production")]).unwrap().auth_enabled);
        assert!(settings(&[("APP_ENV", "staging")]).unwrap().auth_enabled);
        let off = settings(&[("APP_ENV", "production"), ("AUTH_ENABLED", "false")]).unwrap();
        assert!(!off.auth_enabled);
        assert!(settings(&[("AUTH_ENABLED", "true")]).unwrap().auth_enabled);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
