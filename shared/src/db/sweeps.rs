//! Queries behind the sweeper and the dispatcher: expired leases, jobs waiting for a push,
//! pushes that may have been lost with Redis.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::job::JobKind;

/// Re-queues running jobs whose lease expired (their worker died), or fails them when they
/// have used every attempt (a job that kills its worker must not loop forever).
/// Returns `(requeued, failed)`.
pub async fn expire_leases(pool: &PgPool) -> Result<(u64, u64), sqlx::Error> {
    let statuses: Vec<String> = sqlx::query_scalar(
        "UPDATE jobs SET
            status = CASE WHEN cancel_requested THEN 'cancelled'
                          WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
            error = CASE WHEN cancel_requested THEN error
                         WHEN attempts >= max_attempts THEN format(
                'worker %s stopped responding during attempt %s of %s (its lease expired); giving up',
                worker_id, attempts, max_attempts)
                ELSE format('worker %s stopped responding (its lease expired); re-queued', worker_id) END,
            finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN now() END,
            progress = jsonb_build_object('percent', 0, 'stage',
                CASE WHEN cancel_requested THEN 'cancelled'
                     WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                'message', 'its worker stopped responding'),
            worker_id = NULL, lease_expires_at = NULL, enqueued_at = NULL, queue_task_id = NULL,
            run_after = now(), updated_at = now()
         WHERE status = 'running' AND lease_expires_at < now()
         RETURNING status",
    )
    .fetch_all(pool)
    .await?;
    let requeued = statuses.iter().filter(|s| *s == "queued").count() as u64;
    Ok((requeued, statuses.len() as u64 - requeued))
}

/// Locks up to `limit` due, never-pushed jobs of `kind`, oldest first. Call inside a
/// transaction, push them, then [`mark_pushed`] and commit: concurrent dispatchers skip the
/// rows this one holds.
pub async fn lock_unpushed(
    conn: &mut PgConnection,
    kind: JobKind,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM jobs
         WHERE status = 'queued' AND enqueued_at IS NULL AND kind = $1 AND run_after <= now()
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(kind.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn mark_pushed(
    conn: &mut PgConnection,
    ids: &[Uuid],
    task_ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET enqueued_at = now(), queue_task_id = t.task_id
         FROM UNNEST($1::uuid[], $2::text[]) AS t(id, task_id) WHERE jobs.id = t.id",
    )
    .bind(ids)
    .bind(task_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a push (it failed, or its message is gone from Redis) so the dispatcher pushes again.
pub async fn reset_pushes(pool: &PgPool, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET enqueued_at = NULL, queue_task_id = NULL
         WHERE id = ANY($1) AND status = 'queued'",
    )
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Confirms pushes whose messages are still waiting in Redis, so they are not checked again soon.
pub async fn touch_pushes(pool: &PgPool, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jobs SET enqueued_at = now() WHERE id = ANY($1) AND status = 'queued'")
        .bind(ids)
        .execute(pool)
        .await?;
    Ok(())
}

/// Queued jobs of `kind` pushed more than `older_than` ago: their message may be lost.
pub async fn stale_pushes(
    pool: &PgPool,
    kind: JobKind,
    older_than: Duration,
    limit: i64,
) -> Result<Vec<(Uuid, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, queue_task_id FROM jobs
         WHERE status = 'queued' AND kind = $1
           AND enqueued_at < now() - make_interval(secs => $2)
         ORDER BY enqueued_at LIMIT $3",
    )
    .bind(kind.as_str())
    .bind(older_than.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Job counts by `(kind, status)`, for the metrics gauges.
pub async fn counts(pool: &PgPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    super::counts::rows(pool, None).await
}
