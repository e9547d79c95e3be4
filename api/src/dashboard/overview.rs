//! `/ui/overview`: how many jobs are in each state, the failed ones (the dead letters) with
//! their errors and a Retry button, and whether Postgres, Redis and Ollama answer — what
//! `GET /overview` and `GET /jobs?status=failed` return.

use askama::Template;
use axum::{extract::State, response::Response};
use shared::job::{JobKind, JobStatus};

use super::{Nav, Viewer, jobs::Row, respond};
use crate::{
    auth::Scope,
    routes::{
        jobs::list,
        overview::{self, Dependency},
    },
    state::AppState,
};

/// Failed jobs shown at once; older ones are a click away on the filtered jobs table.
const FAILED_SHOWN: &str = "50";

/// A kind's name and each status with its count.
type KindCounts = (&'static str, Vec<(&'static str, i64)>);

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Nav,
    counts: Option<Vec<KindCounts>>,
    statuses: [&'static str; 5],
    failed: Vec<(Row, String)>,
    more_failed: bool,
    deps: Vec<(&'static str, &'static str, String)>,
    error: Option<String>,
}

pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    let nav = Nav::new("overview", &viewer);
    let statuses = JobStatus::ALL.map(JobStatus::as_str);
    if let Err(e) = viewer.principal.require(Scope::Read) {
        let (_, _, detail) = e.public();
        return respond(OverviewPage {
            nav,
            counts: None,
            statuses,
            failed: Vec::new(),
            more_failed: false,
            deps: Vec::new(),
            error: Some(detail),
        });
    }
    let params =
        [("status".to_owned(), "failed".to_owned()), ("limit".into(), FAILED_SHOWN.into())];
    let (overview, failed) = tokio::join!(
        overview::gather(&state, &viewer.principal),
        list::page(&state, &viewer.principal, &params)
    );
    let counts = overview.counts.map(|c| {
        let row = |kind: JobKind| JobStatus::ALL.map(|s| (s.as_str(), c.of(kind).get(s))).to_vec();
        JobKind::ALL.map(|kind| (kind.as_str(), row(kind))).to_vec()
    });
    let (failed, more_failed, error) = match failed {
        Ok(page) => {
            let rows = page
                .jobs
                .iter()
                .map(|job| (Row::new(job), job.error.clone().unwrap_or_default()))
                .collect();
            (rows, page.next_cursor.is_some(), None)
        }
        Err(e) => (Vec::new(), false, Some(e.public().2)),
    };
    let dep =
        |name, d: &Dependency| (name, d.status.as_str(), d.detail.clone().unwrap_or_default());
    let deps = &overview.dependencies;
    respond(OverviewPage {
        nav,
        counts,
        statuses,
        failed,
        more_failed,
        deps: vec![
            dep("postgres", &deps.postgres),
            dep("redis", &deps.redis),
            dep("ollama", &deps.ollama),
        ],
        error,
    })
}
