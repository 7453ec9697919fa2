//! The state every handler receives.

use std::sync::Arc;

use axum::Router;

use crate::{
    artifacts::ArtifactStore,
    config::Settings,
    db::Db,
    features::{
        config::live::AiRuntime,
        rag::{index::SearchCache, reindex_tracker::ReindexTracker},
    },
};

/// Shared application state: the database pool and the settings. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Database pool (SQLite or PostgreSQL).
    pub db: Db,
    /// Settings read once at start-up.
    pub settings: Arc<Settings>,
    /// Where model artifacts are read and written.
    pub artifacts: ArtifactStore,
    /// Wakes this process's idle job workers when a job is queued.
    pub job_signal: Arc<tokio::sync::Notify>,
    /// Woken each time a job worker of this process has written a job's
    /// outcome (and settled its parent batch), so that an in-process
    /// waiter need not poll on a timer; jobs finished by other processes
    /// are still seen by polling.
    pub job_finished: Arc<tokio::sync::Notify>,
    /// The AI settings in force (changed live by `PATCH /config/ai`) and
    /// the embedder built from them.
    pub ai: Arc<AiRuntime>,
    /// The in-process RAG search index.
    pub search: Arc<SearchCache>,
    /// The RAG re-index running in this process, if any, and the last
    /// one's outcome.
    pub reindex: Arc<ReindexTracker>,
    /// Builds the app's router around a state, for requests made in
    /// process (the demo pipeline's client); the app sets it when it is
    /// built, so that the routes need not know the app. `None` until then.
    pub app_router: Option<fn(AppState) -> Router>,
}

impl AppState {
    /// Bundles a pool, settings and the artifact store they name (fails
    /// when the store cannot be configured; see [`ArtifactStore::check`] for
    /// reachability).
    pub fn new(db: Db, settings: Settings) -> anyhow::Result<Self> {
        let artifacts = ArtifactStore::from_settings(&settings)?;
        Ok(Self::with_artifacts(db, settings, artifacts))
    }

    /// Bundles a pool, settings and an already built artifact store.
    pub fn with_artifacts(db: Db, settings: Settings, artifacts: ArtifactStore) -> Self {
        Self {
            db,
            artifacts,
            ai: Arc::new(AiRuntime::new(&settings)),
            settings: Arc::new(settings),
            job_signal: Arc::new(tokio::sync::Notify::new()),
            job_finished: Arc::new(tokio::sync::Notify::new()),
            search: Arc::new(SearchCache::default()),
            reindex: Arc::new(ReindexTracker::default()),
            app_router: None,
        }
    }
}
