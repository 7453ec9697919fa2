//! What this process knows of its re-index runs (`/rag/reindex`), held in
//! the app state: at most one runs at a time.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::problem::Problem;

/// What this process knows of its last re-index.
#[derive(Debug, Default, Clone)]
pub(super) struct Run {
    pub(super) running: bool,
    pub(super) started_at: Option<DateTime<Utc>>,
    pub(super) finished_at: Option<DateTime<Utc>>,
    pub(super) chunks_deleted: Option<u64>,
    pub(super) error: Option<String>,
}

/// The re-index of this process: at most one runs at a time.
#[derive(Debug, Default)]
pub struct ReindexTracker {
    run: Mutex<Run>,
}

impl ReindexTracker {
    pub(super) fn get(&self) -> Run {
        self.run
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Marks a run as started; false when one is already running.
    pub(super) fn claim(&self) -> bool {
        let mut run = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        if run.running {
            return false;
        }
        *run = Run {
            running: true,
            started_at: Some(Utc::now()),
            ..Run::default()
        };
        true
    }

    pub(super) fn finish(&self, outcome: &Result<u64, Problem>) {
        let mut run = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        run.running = false;
        run.finished_at = Some(Utc::now());
        match outcome {
            Ok(deleted) => run.chunks_deleted = Some(*deleted),
            Err(problem) => run.error = Some(problem.detail.clone()),
        }
    }
}
