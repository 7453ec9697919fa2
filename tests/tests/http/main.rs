//! The HTTP tests, compiled as one binary: each module drives the real app
//! over HTTP against SQLite and PostgreSQL, one slice per module
//! (`cargo test -p forecastlab-tests --test http <module>::` runs one).
//!
//! One binary instead of one per file: every test binary links the whole
//! server and instantiates the same generic client and JSON code, so
//! separate binaries compiled that work dozens of times over. The files
//! that change process-wide state stay binaries of their own: `foundation`
//! registers a model of its own through `inventory`, `agents_stream` and
//! `config` install a process-wide log capture, and `optin` and `accuracy`
//! are compiled again with the opt-in features on.

mod agents;
mod analytics;
mod artifact_store;
mod auth;
mod backtesting;
mod batch_runs;
mod dashboard;
mod dashboard_showcase;
mod demo;
mod demo_workspaces;
mod dimensions;
mod explain;
mod export;
mod featuresets;
mod forecasting;
mod global_models;
mod hardening;
mod ingest;
mod ingest_prices;
mod jobs;
mod many_series;
mod migrate_data;
mod natural_keys;
mod ops;
mod outage;
mod rag;
mod rag_pgvector;
mod rag_reindex;
mod real_data;
mod registry;
mod scenarios;
mod scenarios_elasticity;
mod seeder;
mod statistical;
mod statsforecast_parity;
mod upserts;
