//! The worker's side of the lifecycle: claim, lease renewal, progress, finish, release.
//!
//! Every write after the claim is fenced by `(attempts, worker_id)`: if the lease expired and
//! another worker re-claimed the job, the old execution's writes match no row and are dropped.
//! That is what makes duplicate deliveries harmless: one final state, one result.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{JOB_COLUMNS, row::JobRow};
use crate::job::{Job, Progress};

/// The identity of one execution of a job: only this execution may finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken {
    pub job_id: Uuid,
    pub attempt: i32,
    pub worker: String,
}

/// Claims a queued job (or a running one whose lease expired) for `worker`. `None` when the
/// job is finished, cancelled, running elsewhere with a live lease, backing off, out of
/// attempts, or unknown: the delivery is then acknowledged and skipped.
pub async fn claim(
    pool: &PgPool,
    job_id: Uuid,
    worker: &str,
    lease: Duration,
) -> Result<Option<(Job, ClaimToken)>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker_id = $2,
            lease_expires_at = now() + make_interval(secs => $3),
            started_at = coalesce(started_at, now()), updated_at = now(),
            progress = jsonb_build_object('percent', 0, 'stage', 'starting',
                'message', format('attempt %s of %s started on %s', attempts + 1, max_attempts, $2::text))
         WHERE id = $1 AND attempts < max_attempts AND NOT cancel_requested AND (
               (status = 'queued' AND run_after <= now())
            OR (status = 'running' AND lease_expires_at < now()))
         RETURNING {JOB_COLUMNS}"
    );
    let row: Option<JobRow> = sqlx::query_as(&sql)
        .bind(job_id)
        .bind(worker)
        .bind(lease.as_secs_f64())
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|row| {
        let job = Job::from(row);
        let token = ClaimToken { job_id, attempt: job.attempts, worker: worker.to_owned() };
        (job, token)
    }))
}

/// What the worker learns when it renews its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    Held {
        cancel_requested: bool,
    },
    /// The job was re-claimed elsewhere or finished: stop working on it.
    Lost,
}

/// Extends the lease; with `progress`, also records it (one write for both).
pub async fn renew(
    pool: &PgPool,
    token: &ClaimToken,
    lease: Duration,
    progress: Option<&Progress>,
) -> Result<LeaseState, sqlx::Error> {
    let progress = progress.map(|p| serde_json::to_value(p).expect("progress serialises"));
    let cancel: Option<bool> = sqlx::query_scalar(
        "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $4),
            progress = coalesce($5, progress),
            updated_at = CASE WHEN $5::jsonb IS NULL THEN updated_at ELSE now() END
         WHERE id = $1 AND status = 'running' AND attempts = $2 AND worker_id = $3
         RETURNING cancel_requested",
    )
    .bind(token.job_id)
    .bind(token.attempt)
    .bind(&token.worker)
    .bind(lease.as_secs_f64())
    .bind(progress)
    .fetch_optional(pool)
    .await?;
    Ok(match cancel {
        Some(cancel_requested) => LeaseState::Held { cancel_requested },
        None => LeaseState::Lost,
    })
}

/// How an execution ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded {
        result: Value,
        artifacts: Vec<String>,
    },
    Failed {
        error: String,
    },
    Cancelled {
        message: String,
    },
    /// A transient failure with attempts left: back to the queue after `delay`.
    Retry {
        error: String,
        delay: Duration,
    },
}

/// Records the outcome. `false` when this execution no longer owns the job (fenced out).
pub async fn finish(
    pool: &PgPool,
    token: &ClaimToken,
    outcome: &Outcome,
) -> Result<bool, sqlx::Error> {
    let (status, result, artifacts, error, delay, progress) = match outcome {
        Outcome::Succeeded { result, artifacts } => (
            "succeeded",
            Some(result.clone()),
            Some(artifacts.clone()),
            None,
            0.0,
            Progress::new(100.0, "done", "finished"),
        ),
        Outcome::Failed { error } => (
            "failed",
            None,
            None,
            Some(error.clone()),
            0.0,
            Progress::new(100.0, "failed", error.clone()),
        ),
        Outcome::Cancelled { message } => {
            ("cancelled", None, None, None, 0.0, Progress::new(100.0, "cancelled", message.clone()))
        }
        Outcome::Retry { error, delay } => (
            "queued",
            None,
            None,
            Some(error.clone()),
            delay.as_secs_f64(),
            Progress::new(
                0.0,
                "retrying",
                format!("retrying in {:.1}s after: {error}", delay.as_secs_f64()),
            ),
        ),
    };
    let done = sqlx::query(
        "UPDATE jobs SET status = $4, result = $5, artifacts = coalesce($6, artifacts), error = $7,
            progress = $9, worker_id = NULL, lease_expires_at = NULL, updated_at = now(),
            finished_at = CASE WHEN $4 = 'queued' THEN NULL ELSE now() END,
            run_after = now() + make_interval(secs => $8),
            enqueued_at = CASE WHEN $4 = 'queued' THEN NULL ELSE enqueued_at END
         WHERE id = $1 AND status = 'running' AND attempts = $2 AND worker_id = $3",
    )
    .bind(token.job_id)
    .bind(token.attempt)
    .bind(&token.worker)
    .bind(status)
    .bind(result)
    .bind(artifacts.map(|a| serde_json::to_value(a).expect("names serialise")))
    .bind(error)
    .bind(delay)
    .bind(serde_json::to_value(progress).expect("progress serialises"))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Hands running jobs back to the queue at once (graceful shutdown, or a handler torn down by
/// a Redis failure), without counting the interrupted attempt.
pub async fn release(pool: &PgPool, tokens: &[ClaimToken]) -> Result<u64, sqlx::Error> {
    let mut released = 0;
    for token in tokens {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = attempts - 1, worker_id = NULL,
                lease_expires_at = NULL, enqueued_at = NULL, run_after = now(), updated_at = now(),
                progress = jsonb_build_object('percent', 0, 'stage', 'queued',
                    'message', 're-queued: its worker shut down before finishing')
             WHERE id = $1 AND status = 'running' AND attempts = $2 AND worker_id = $3",
        )
        .bind(token.job_id)
        .bind(token.attempt)
        .bind(&token.worker)
        .execute(pool)
        .await?;
        released += done.rows_affected();
    }
    Ok(released)
}
