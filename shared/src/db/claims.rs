//! The worker's side of the lifecycle: claim, lease renewal, progress, finish, release.
//!
//! Every write after the claim is fenced by `(attempts, worker_id)`: if the lease expired and
//! another worker re-claimed the job, the old execution's writes match no row and are dropped.
//! That is what makes duplicate deliveries harmless: one final state, one result.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use serde_json::Value;
use sqlx::{PgExecutor, PgPool};
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
    Ok(claim_many(pool, &[job_id], worker, lease).await?.pop().flatten())
}

/// [`claim`] for many deliveries in one statement and one commit. The answer is in input
/// order; a job id given twice is claimed at most once (its first occurrence). `db` is the pool
/// or a connection the caller holds.
pub async fn claim_many(
    db: impl PgExecutor<'_>,
    job_ids: &[Uuid],
    worker: &str,
    lease: Duration,
) -> Result<Vec<Option<(Job, ClaimToken)>>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker_id = $2,
            lease_expires_at = now() + make_interval(secs => $3),
            started_at = coalesce(started_at, now()), updated_at = now(),
            progress = jsonb_build_object('percent', 0, 'stage', 'starting',
                'message', format('attempt %s of %s started on %s', attempts + 1, max_attempts, $2::text))
         WHERE id = ANY($1) AND attempts < max_attempts AND NOT cancel_requested AND (
               (status = 'queued' AND run_after <= now())
            OR (status = 'running' AND lease_expires_at < now()))
         RETURNING {JOB_COLUMNS}"
    );
    let rows: Vec<JobRow> = sqlx::query_as(&sql)
        .bind(job_ids)
        .bind(worker)
        .bind(lease.as_secs_f64())
        .fetch_all(db)
        .await?;
    let mut claimed: HashMap<Uuid, Job> =
        rows.into_iter().map(Job::from).map(|job| (job.id, job)).collect();
    Ok(job_ids
        .iter()
        .map(|id| {
            let job = claimed.remove(id)?;
            let token =
                ClaimToken { job_id: *id, attempt: job.attempts, worker: worker.to_owned() };
            Some((job, token))
        })
        .collect())
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
    Ok(finish_many(pool, &[(token, outcome)]).await?[0])
}

/// [`finish`] for many executions in one statement and one commit; the answer is in input order.
/// `db` is the pool or a connection the caller holds.
pub async fn finish_many(
    db: impl PgExecutor<'_>,
    finished: &[(&ClaimToken, &Outcome)],
) -> Result<Vec<bool>, sqlx::Error> {
    let n = finished.len();
    let (mut ids, mut attempts, mut workers) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut statuses, mut results, mut artifact_lists, mut errors, mut delays, mut progresses) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (token, outcome) in finished {
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
            Outcome::Cancelled { message } => (
                "cancelled",
                None,
                None,
                None,
                0.0,
                Progress::new(100.0, "cancelled", message.clone()),
            ),
            Outcome::Retry { error, delay } => (
                "queued",
                None,
                None,
                Some(error.clone()),
                delay.as_secs_f64(),
                Progress::new(0.0, "retrying", retry_message(token.attempt, *delay, error)),
            ),
        };
        ids.push(token.job_id);
        attempts.push(token.attempt);
        workers.push(token.worker.as_str());
        statuses.push(status);
        results.push(result);
        artifact_lists.push(artifacts.map(|a| serde_json::to_value(a).expect("names serialise")));
        errors.push(error);
        delays.push(delay);
        progresses.push(serde_json::to_value(progress).expect("progress serialises"));
    }
    let done: Vec<(Uuid, i32)> = sqlx::query_as(
        "UPDATE jobs SET status = t.status, result = t.result,
            artifacts = coalesce(t.artifacts, jobs.artifacts), error = t.error,
            progress = t.progress, worker_id = NULL, lease_expires_at = NULL, updated_at = now(),
            finished_at = CASE WHEN t.status = 'queued' THEN NULL ELSE now() END,
            run_after = now() + make_interval(secs => t.delay),
            enqueued_at = CASE WHEN t.status = 'queued' THEN NULL ELSE jobs.enqueued_at END
         FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[],
                     $7::text[], $8::float8[], $9::jsonb[])
              AS t(id, attempt, worker, status, result, artifacts, error, delay, progress)
         WHERE jobs.id = t.id AND jobs.status = 'running' AND jobs.attempts = t.attempt
           AND jobs.worker_id = t.worker
         RETURNING jobs.id, jobs.attempts",
    )
    .bind(&ids)
    .bind(&attempts)
    .bind(&workers)
    .bind(&statuses)
    .bind(&results)
    .bind(&artifact_lists)
    .bind(&errors)
    .bind(&delays)
    .bind(&progresses)
    .fetch_all(db)
    .await?;
    // `attempts` is unchanged by the update, so (id, attempt) names the execution.
    let done: HashSet<(Uuid, i32)> = done.into_iter().collect();
    Ok(finished.iter().map(|(token, _)| done.contains(&(token.job_id, token.attempt))).collect())
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

/// What a job waiting for its next attempt shows: when it can be picked up, not only the
/// backoff (it may then wait longer for a free worker).
fn retry_message(attempt: i32, delay: std::time::Duration, error: &str) -> String {
    let at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
    format!(
        "attempt {} can start at {} (in {:.1}s), as soon as a worker is free; attempt {attempt} \
         failed: {error}",
        attempt + 1,
        at.format("%H:%M:%S UTC"),
        delay.as_secs_f64()
    )
}
