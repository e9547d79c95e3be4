//! Mapping a `jobs` row to [`Job`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::FromRow;
use uuid::Uuid;

use crate::job::{Job, JobSummary, Progress};

/// The columns every job query selects, in [`JobRow`] order.
pub const JOB_COLUMNS: &str = "id, kind, status, input, attempts, max_attempts, progress, result, \
     error, artifacts, cancel_requested, created_at, started_at, finished_at, updated_at, owner, \
     submitted_by, cancelled_by, retried_by, shared";

#[derive(FromRow)]
pub(crate) struct JobRow {
    id: Uuid,
    kind: String,
    status: String,
    input: Value,
    attempts: i32,
    max_attempts: i32,
    progress: Value,
    result: Option<Value>,
    error: Option<String>,
    artifacts: Value,
    cancel_requested: bool,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    owner: Option<String>,
    submitted_by: Option<String>,
    cancelled_by: Option<String>,
    retried_by: Option<String>,
    shared: bool,
}

impl From<JobRow> for Job {
    fn from(r: JobRow) -> Self {
        Job {
            id: r.id,
            // The CHECK constraints guarantee these parse.
            kind: r.kind.parse().expect("kind constrained by the schema"),
            status: r.status.parse().expect("status constrained by the schema"),
            progress: serde_json::from_value(r.progress)
                .unwrap_or_else(|_| Progress::new(0.0, "unknown", "")),
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            input: r.input,
            result: r.result,
            error: r.error,
            artifacts: serde_json::from_value(r.artifacts).unwrap_or_default(),
            cancel_requested: r.cancel_requested,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            updated_at: r.updated_at,
            owner: r.owner,
            submitted_by: r.submitted_by,
            cancelled_by: r.cancelled_by,
            retried_by: r.retried_by,
            shared: r.shared,
        }
    }
}

/// The columns of a list row, in [`SummaryRow`] order: the input's summary instead of the
/// input, and no result.
pub(crate) const SUMMARY_COLUMNS: &str = "id, kind, status, \
     COALESCE(input_summary, input) AS input, attempts, max_attempts, progress, \
     NULL::jsonb AS result, error, artifacts, cancel_requested, created_at, started_at, \
     finished_at, updated_at, owner, submitted_by, NULL::text AS cancelled_by, \
     NULL::text AS retried_by, shared, input_summary IS NOT NULL AS input_summarized";

#[derive(FromRow)]
pub(crate) struct SummaryRow {
    #[sqlx(flatten)]
    job: JobRow,
    input_summarized: bool,
}

impl From<SummaryRow> for JobSummary {
    fn from(row: SummaryRow) -> Self {
        let job = Job::from(row.job);
        JobSummary {
            url: format!("/jobs/{}", job.id),
            id: job.id,
            kind: job.kind,
            status: job.status,
            progress: job.progress,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            input: job.input,
            input_summarized: row.input_summarized,
            error: job.error,
            artifacts: job.artifacts,
            cancel_requested: job.cancel_requested,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            updated_at: job.updated_at,
            owner: job.owner,
            submitted_by: job.submitted_by,
            shared: job.shared,
        }
    }
}
