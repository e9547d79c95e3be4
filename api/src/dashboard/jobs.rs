//! `/`: the jobs table, newest first, filtered and paged through the URL; `/ui/rows`: its rows
//! alone, which the page re-fetches when `/events` says a job changed.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::IntoResponse, response::Response};
use shared::job::{JobKind, JobStatus, JobSummary};

use super::{Nav, Viewer, render, respond};
use crate::{auth::Scope, extract::QueryPairs, routes::jobs::list, state::AppState};

/// One row of the table.
pub struct Row {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub symbol: String,
    pub status: &'static str,
    /// Queued or running: progress and stage are shown.
    pub active: bool,
    pub percent: f32,
    pub stage: String,
    pub attempts: String,
    pub submitted: String,
    pub finished: String,
    pub duration: String,
}

impl Row {
    pub fn new(job: &JobSummary) -> Self {
        Self {
            id: job.id.to_string(),
            title: title(job.kind, &job.input),
            kind: job.kind.as_str(),
            symbol: job.input["symbol"].as_str().unwrap_or("").to_owned(),
            status: job.status.as_str(),
            active: matches!(job.status, JobStatus::Queued | JobStatus::Running),
            percent: job.progress.percent,
            stage: job.progress.stage.clone(),
            attempts: format!("{}/{}", job.attempts, job.max_attempts),
            submitted: render::time(job.created_at),
            finished: render::optional_time(job.finished_at),
            duration: job
                .started_at
                .map(|from| render::duration(from, job.finished_at))
                .unwrap_or_default(),
        }
    }
}

/// What a job is, in two words: "market analysis", "journal review", "training".
pub fn title(kind: JobKind, input: &serde_json::Value) -> String {
    match (kind, input["task"].as_str()) {
        (JobKind::Training, _) => "training".into(),
        (JobKind::Analysis, Some("market")) => "market analysis".into(),
        (JobKind::Analysis, Some("journal")) => "journal review".into(),
        (JobKind::Analysis, _) => "analysis".into(),
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    nav: Nav,
    /// Each status, and whether the filter has it.
    statuses: Vec<(&'static str, bool)>,
    kind: String,
    symbol: String,
    rows: Vec<Row>,
    rows_url: String,
    next_url: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "rows.html")]
struct Rows {
    rows: Vec<Row>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    QueryPairs(params): QueryPairs,
) -> Response {
    let filters = filters(&params);
    let get = |name: &str| {
        filters.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let (status, kind, symbol) = (get("status"), get("kind"), get("symbol"));
    let (code, rows, next, error) = match load(&state, &viewer, &filters).await {
        Ok((rows, next)) => (StatusCode::OK, rows, next, None),
        Err((code, detail)) => (code, Vec::new(), None, Some(detail)),
    };
    let keep: Vec<_> = filters.iter().filter(|(n, _)| n != "cursor").cloned().collect();
    let next_url = next.map(|cursor| {
        let mut pairs = keep.clone();
        pairs.push(("cursor".into(), cursor));
        format!("/?{}", encode(&pairs))
    });
    let template = JobsPage {
        nav: Nav::new("jobs", &viewer),
        statuses: JobStatus::ALL.iter().map(|s| (s.as_str(), s.as_str() == status)).collect(),
        kind,
        symbol,
        rows,
        rows_url: format!("/ui/rows?{}", encode(&filters)),
        next_url,
        error,
    };
    (code, respond(template)).into_response()
}

pub async fn rows(
    State(state): State<AppState>,
    viewer: Viewer,
    QueryPairs(params): QueryPairs,
) -> Response {
    match load(&state, &viewer, &filters(&params)).await {
        Ok((rows, _)) => respond(Rows { rows }),
        Err((code, detail)) => (code, detail).into_response(),
    }
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    filters: &[(String, String)],
) -> Result<(Vec<Row>, Option<String>), (StatusCode, String)> {
    let public = |e: crate::error::ApiError| {
        let (code, _, detail) = e.public();
        (code, detail)
    };
    viewer.principal.require(Scope::Read).map_err(public)?;
    let jobs = list::page(state, &viewer.principal, filters).await.map_err(public)?;
    Ok((jobs.jobs.iter().map(Row::new).collect(), jobs.next_cursor))
}

/// The filters the page knows, without the empty values a GET form sends for "any".
fn filters(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .filter(|(name, value)| {
            !value.is_empty() && ["status", "kind", "symbol", "cursor"].contains(&name.as_str())
        })
        .map(|(name, value)| {
            let value = if name == "symbol" { value.trim().to_uppercase() } else { value.clone() };
            (name.clone(), value)
        })
        .collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).expect("pairs of strings encode")
}
