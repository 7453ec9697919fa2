//! What a running job sees: the app state, its identity, a cancellation
//! flag fed by heartbeats, and progress counters the heartbeat publishes.

use std::sync::{
    atomic::{AtomicBool, AtomicI64, Ordering},
    Arc,
};

use forecastlab_core::{CoreError, SeriesKey};

use super::queue::{self, Owner};
use crate::{problem::Problem, state::AppState};

/// Why a job did not produce a result.
#[derive(Debug)]
pub enum JobFailure {
    /// Cancellation was requested and honoured at a checkpoint.
    Cancelled,
    /// The job failed; the problem is stored as its error.
    Failed(Problem),
    /// The job handed its work to shard jobs (see [`super::shards`]); its
    /// outcome is written when they finish.
    Deferred,
}

impl From<Problem> for JobFailure {
    fn from(problem: Problem) -> Self {
        Self::Failed(problem)
    }
}

impl From<sqlx::Error> for JobFailure {
    fn from(error: sqlx::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl From<CoreError> for JobFailure {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::Cancelled => Self::Cancelled,
            other => Self::Failed(other.into()),
        }
    }
}

impl From<tokio::task::JoinError> for JobFailure {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Failed(error.into())
    }
}

#[derive(Debug)]
struct Inner {
    state: AppState,
    owner: Owner,
    job_id: String,
    previous_run_id: Option<String>,
    shard: Option<Vec<SeriesKey>>,
    cancel: AtomicBool,
    lost: AtomicBool,
    done: AtomicI64,
    total: AtomicI64,
}

/// Handle of one running job; cheap to clone and `Send + Sync`, so it can
/// go into blocking and rayon closures.
#[derive(Debug, Clone)]
pub struct JobContext(Arc<Inner>);

impl JobContext {
    /// A context for a claimed job; `shard` holds the series of a batch
    /// shard.
    pub fn new(
        state: AppState,
        owner: Owner,
        job_id: String,
        previous_run_id: Option<String>,
        shard: Option<Vec<SeriesKey>>,
    ) -> Self {
        Self(Arc::new(Inner {
            state,
            owner,
            job_id,
            previous_run_id,
            shard,
            cancel: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            done: AtomicI64::new(0),
            total: AtomicI64::new(0),
        }))
    }

    /// The app state (database, settings).
    pub fn state(&self) -> &AppState {
        &self.0.state
    }

    /// External job id.
    pub fn job_id(&self) -> &str {
        &self.0.job_id
    }

    /// Who holds the job.
    pub fn owner(&self) -> &Owner {
        &self.0.owner
    }

    /// Registry run created by an earlier attempt of this job.
    pub fn previous_run_id(&self) -> Option<&str> {
        self.0.previous_run_id.as_deref()
    }

    /// The series of a batch shard (`None` for every other job).
    pub fn shard(&self) -> Option<&[SeriesKey]> {
        self.0.shard.as_deref()
    }

    /// `Err(Cancelled)` once cancellation was requested (or the job was
    /// taken away from this worker); call between units of work.
    pub fn checkpoint(&self) -> Result<(), JobFailure> {
        if self.is_cancelled() {
            Err(JobFailure::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Whether the job should stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancel.load(Ordering::Relaxed)
    }

    /// Asks the job to stop at its next checkpoint.
    pub fn cancel(&self) {
        self.0.cancel.store(true, Ordering::Relaxed);
    }

    /// Marks the job as no longer ours (it also stops at the next
    /// checkpoint and nothing more is written).
    pub(crate) fn mark_lost(&self) {
        self.0.lost.store(true, Ordering::Relaxed);
        self.cancel();
    }

    /// Whether the job was taken away from this worker.
    pub fn is_lost(&self) -> bool {
        self.0.lost.load(Ordering::Relaxed)
    }

    /// Sets the number of work units.
    pub fn set_total(&self, total: usize) {
        self.0.total.store(total as i64, Ordering::Relaxed);
    }

    /// Counts finished work units.
    pub fn add_done(&self, units: usize) {
        self.0.done.fetch_add(units as i64, Ordering::Relaxed);
    }

    /// Sets the number of finished work units (for work that reports its
    /// own running count).
    pub fn set_done(&self, done: usize) {
        self.0.done.store(done as i64, Ordering::Relaxed);
    }

    /// `(done, total)`.
    pub fn progress(&self) -> (i64, i64) {
        (
            self.0.done.load(Ordering::Relaxed),
            self.0.total.load(Ordering::Relaxed),
        )
    }

    /// Records the registry run this job works on, so that a retry after a
    /// crash continues with the same run.
    pub async fn attach_run(&self, run_id: &str) -> Result<(), JobFailure> {
        if queue::attach_run(&self.state().db, self.owner(), run_id).await? {
            Ok(())
        } else {
            self.mark_lost();
            Err(JobFailure::Cancelled)
        }
    }
}
