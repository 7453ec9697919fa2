//! Page 6, Jobs (`/ui/jobs`): every job with its live status and progress
//! (the table polls itself while a job is pending or running), cancelling,
//! and a form that queues a batch job (many series, one model).

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use serde::Deserialize;
use serde_json::Value;

use super::{
    nav::{self, NavItem},
    page::{render, Layout, Pager},
};
use crate::{
    extract::{Query, Validate, Violations},
    features::jobs::{
        schemas::{JobListQuery, JobResponse, JobStatus, JobType},
        service,
    },
    models::{catalog, ModelInfo},
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::JOBS;

/// The page and its fragment.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/jobs", get(page))
        .route("/ui/jobs/table", get(table))
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    layout: Layout,
    models: Vec<ModelInfo>,
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    render(&JobsPage {
        layout: Layout::of(NAV),
        models: catalog(&state.settings),
    })
}

/// One row of the jobs table.
#[derive(Debug)]
struct JobRow {
    job: JobResponse,
}

impl JobRow {
    fn status(&self) -> &'static str {
        self.job.status.as_str()
    }

    fn job_type(&self) -> &'static str {
        self.job.job_type.as_str()
    }

    fn is_active(&self) -> bool {
        matches!(self.job.status, JobStatus::Pending | JobStatus::Running)
    }

    /// Progress in percent (0 while the total is unknown).
    fn percent(&self) -> i64 {
        let progress = &self.job.progress;
        if progress.total > 0 {
            (progress.done * 100 / progress.total).clamp(0, 100)
        } else {
            0
        }
    }

    fn created(&self) -> String {
        self.job.created_at.format("%Y-%m-%d %H:%M:%S").to_string()
    }

    fn error(&self) -> &str {
        self.job.error_message.as_deref().unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "jobs_table.html")]
struct JobsTable {
    rows: Vec<JobRow>,
    pager: Pager,
    polling: bool,
}

async fn table(
    State(state): State<AppState>,
    Query(query): Query<JobListQuery>,
) -> Result<Html<String>, Problem> {
    let filters = [
        ("job_type", query.job_type.map(|t| t.as_str().to_owned())),
        ("status", query.status.map(|s| s.as_str().to_owned())),
        ("sort_by", query.sort_by.clone()),
        ("sort_order", query.sort_order.clone()),
    ];
    let list = service::list(&state, query).await?;
    let pager = Pager::new(
        "/ui/jobs/table",
        &filters,
        list.page,
        list.page_size,
        list.total,
    );
    let rows: Vec<JobRow> = list.jobs.into_iter().map(|job| JobRow { job }).collect();
    render(&JobsTable {
        polling: rows.iter().any(JobRow::is_active),
        rows,
        pager,
    })
}

/// The result of job `job_id`, which must be a completed job of
/// `job_type` (else 400 for another type, 409 while it is not completed).
pub(super) async fn completed_result(
    state: &AppState,
    job_id: &str,
    job_type: JobType,
) -> Result<Value, Problem> {
    let job = service::get(state, job_id).await?;
    if job.job_type != job_type {
        return Err(Problem::bad_request(format!(
            "Job {job_id} is a {} job, not a {} job.",
            job.job_type.as_str(),
            job_type.as_str()
        )));
    }
    match (job.status, job.result) {
        (JobStatus::Completed, Some(result)) => Ok(result),
        (status, _) => Err(Problem::conflict(format!(
            "Job {job_id} is {}, not completed.",
            status.as_str()
        ))),
    }
}

/// `?job_id=` of a result fragment.
#[derive(Debug, Deserialize)]
pub(super) struct JobRef {
    /// The job.
    pub(super) job_id: String,
}

impl Validate for JobRef {
    fn validate(&self, v: &mut Violations) {
        v.length("job_id", &self.job_id, 1, 64);
    }
}
