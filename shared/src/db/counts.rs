//! Job counts by kind and status: `GET /overview` (per owner or all) and the metrics gauges.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::job::{JobKind, JobStatus};

/// Jobs of one kind per status; every status is present (zero included), so the shape never
/// changes with the data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl StatusCounts {
    /// The count of jobs in `status`.
    pub fn get(mut self, status: JobStatus) -> i64 {
        *self.slot(status)
    }

    /// Exhaustive on purpose: a new status does not compile until it has a field here.
    fn slot(&mut self, status: JobStatus) -> &mut i64 {
        match status {
            JobStatus::Queued => &mut self.queued,
            JobStatus::Running => &mut self.running,
            JobStatus::Succeeded => &mut self.succeeded,
            JobStatus::Failed => &mut self.failed,
            JobStatus::Cancelled => &mut self.cancelled,
        }
    }
}

/// Every kind, each with its [`StatusCounts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobCounts {
    pub analysis: StatusCounts,
    pub training: StatusCounts,
}

impl JobCounts {
    /// The counts of jobs of `kind`.
    pub fn of(mut self, kind: JobKind) -> StatusCounts {
        *self.kind(kind)
    }

    fn kind(&mut self, kind: JobKind) -> &mut StatusCounts {
        match kind {
            JobKind::Analysis => &mut self.analysis,
            JobKind::Training => &mut self.training,
        }
    }
}

/// Raw `(kind, status, count)` rows, of `owner`'s jobs or (with `None`) of all. One query
/// each; two texts rather than `$1 IS NULL OR owner = $1`, whose generic plan (a prepared
/// statement's, after a few runs) could use no index. All jobs: an index-only scan of
/// `jobs_kind_status_id`; one owner's: of `jobs_owner_kind_status`.
pub async fn rows(
    pool: &PgPool,
    owner: Option<&str>,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    match owner {
        None => {
            sqlx::query_as("SELECT kind, status, count(*) FROM jobs GROUP BY kind, status")
                .fetch_all(pool)
                .await
        }
        Some(owner) => {
            sqlx::query_as(
                "SELECT kind, status, count(*) FROM jobs WHERE owner = $1 GROUP BY kind, status",
            )
            .bind(owner)
            .fetch_all(pool)
            .await
        }
    }
}

/// Counts of `owner`'s jobs, or of all with `None`.
pub async fn by_kind_and_status(
    pool: &PgPool,
    owner: Option<&str>,
) -> Result<JobCounts, sqlx::Error> {
    let mut counts = JobCounts::default();
    for (kind, status, n) in rows(pool, owner).await? {
        // The CHECK constraints guarantee these parse.
        let kind: JobKind = kind.parse().expect("kind constrained by the schema");
        let status: JobStatus = status.parse().expect("status constrained by the schema");
        *counts.kind(kind).slot(status) = n;
    }
    Ok(counts)
}
