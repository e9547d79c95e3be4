//! `/ui/jobs/{id}`: one job — its input, live progress while it runs, its results, report and
//! files when it is done, its error when it failed — and `/ui/jobs/{id}/live`, the part that
//! changes while it runs, re-fetched when the job's event stream announces a change.

mod analysis;
mod training;

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use shared::job::{Job, JobKind, JobStatus};

use super::{Nav, Viewer, jobs::title, render, report, respond};
use crate::{auth::Scope, error::ApiError, routes::jobs as api_jobs, state::AppState};

/// The part of the page that changes while the job runs.
pub struct Live {
    pub id: String,
    pub status: &'static str,
    /// Queued or running: progress is shown.
    pub running: bool,
    pub percent: f32,
    pub stage: String,
    pub message: String,
    pub attempts: String,
    pub can_cancel: bool,
    pub can_retry: bool,
}

impl Live {
    fn new(job: &Job) -> Self {
        Self {
            id: job.id.to_string(),
            status: job.status.as_str(),
            running: !job.status.is_final(),
            percent: job.progress.percent,
            stage: job.progress.stage.clone(),
            message: job.progress.message.clone(),
            attempts: format!("{} of {}", job.attempts, job.max_attempts),
            can_cancel: !job.status.is_final() && !job.cancel_requested,
            can_retry: matches!(job.status, JobStatus::Failed | JobStatus::Cancelled),
        }
    }
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    nav: Nav,
    live: Live,
    running: bool,
    title: String,
    kind: &'static str,
    symbol: String,
    owner: String,
    submitted: String,
    started: String,
    finished: String,
    duration: String,
    input: String,
    error: Option<String>,
    market: Option<analysis::Market>,
    journal: Option<analysis::Journal>,
    training: Option<training::Training>,
    is_training: bool,
    /// Sanitised HTML of `report.md`.
    report_html: Option<String>,
    /// Bytes of a report too large to render here (it stays a download).
    report_bytes: Option<u64>,
    artifacts: Vec<String>,
}

#[derive(Template)]
#[template(path = "live.html")]
struct LivePart {
    live: Live,
}

#[derive(Template)]
#[template(path = "problem.html")]
pub struct ProblemPage {
    pub nav: Nav,
    pub heading: String,
    pub detail: String,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let job = match load(&state, &viewer, &id).await {
        Ok(job) => job,
        Err(e) => return problem(&viewer, e),
    };
    let result = job.result.clone().unwrap_or_default();
    let report = if job.artifacts.iter().any(|a| a == "report.md") {
        report::load(&state, job.id).await
    } else {
        None
    };
    let (report_html, report_bytes) = match report {
        Some(report::Report::Html(html)) => (Some(html), None),
        Some(report::Report::TooLarge(bytes)) => (None, Some(bytes)),
        None => (None, None),
    };
    let template = JobPage {
        nav: Nav::new("jobs", &viewer),
        live: Live::new(&job),
        running: !job.status.is_final(),
        title: title(job.kind, &job.input),
        kind: job.kind.as_str(),
        symbol: job.input["symbol"].as_str().unwrap_or("").to_owned(),
        owner: job.owner.clone().unwrap_or_default(),
        submitted: render::time(job.created_at),
        started: render::optional_time(job.started_at),
        finished: render::optional_time(job.finished_at),
        duration: job.started_at.map(|s| render::duration(s, job.finished_at)).unwrap_or_default(),
        input: render::pretty(&job.input),
        error: job.error.clone(),
        market: analysis::market(&result),
        journal: analysis::journal(&result),
        training: training::training(&result),
        is_training: job.kind == JobKind::Training,
        report_html,
        report_bytes,
        artifacts: job.artifacts.clone(),
    };
    respond(template)
}

/// The live part; once the job is final the whole page is reloaded (htmx `HX-Refresh`), which
/// then shows the results and no longer listens for events.
pub async fn live(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    match load(&state, &viewer, &id).await {
        Ok(job) if job.status.is_final() => ([("hx-refresh", "true")], "").into_response(),
        Ok(job) => respond(LivePart { live: Live::new(&job) }),
        Err(e) => {
            let (status, _, detail) = e.public();
            (status, detail).into_response()
        }
    }
}

async fn load(state: &AppState, viewer: &Viewer, id: &str) -> Result<Job, ApiError> {
    viewer.principal.require(Scope::Read)?;
    let id = api_jobs::job_id(id)?;
    api_jobs::load(state, &viewer.principal, id).await
}

pub fn problem(viewer: &Viewer, e: ApiError) -> Response {
    let (status, _, detail) = e.public();
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found".to_owned(),
        other => other.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let nav = Nav::new("jobs", viewer);
    (status, respond(ProblemPage { nav, heading, detail })).into_response()
}
