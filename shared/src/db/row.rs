//! Mapping a `jobs` row to [`Job`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::FromRow;
use uuid::Uuid;

use crate::job::{Job, Progress};

/// The columns every job query selects, in [`JobRow`] order.
pub const JOB_COLUMNS: &str = "id, kind, status, input, attempts, max_attempts, progress, result, \
     error, artifacts, cancel_requested, created_at, started_at, finished_at, updated_at";

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
        }
    }
}
