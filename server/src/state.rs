//! The state every handler receives.

use std::sync::Arc;

use crate::{config::Settings, db::Db};

/// Shared application state: the database pool and the settings. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Database pool (SQLite or PostgreSQL).
    pub db: Db,
    /// Settings read once at start-up.
    pub settings: Arc<Settings>,
    /// Wakes this process's idle job workers when a job is queued.
    pub job_signal: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Bundles a pool and settings.
    pub fn new(db: Db, settings: Settings) -> Self {
        Self {
            db,
            settings: Arc::new(settings),
            job_signal: Arc::new(tokio::sync::Notify::new()),
        }
    }
}
