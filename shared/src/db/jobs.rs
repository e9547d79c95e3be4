//! Submitting and reading jobs (the API side).

use serde_json::Value;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{
    JOB_COLUMNS,
    row::{JobRow, SUMMARY_COLUMNS, SummaryRow},
};
use crate::job::{Job, JobKind, JobStatus, JobSummary};

/// A validated job about to be inserted.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: JobKind,
    pub input: Value,
    /// What `GET /jobs` shows instead of `input` (`JobSpec::summary`), when it is shorter.
    pub input_summary: Option<Value>,
    pub symbol: Option<String>,
    pub max_attempts: i32,
    /// The apalis task id of the push the caller will make right after the insert; `None`
    /// leaves the job for the dispatcher (Redis backlog full).
    pub queue_task_id: Option<String>,
    /// The owner of the submitting key (`None` with `AUTH_MODE=disabled`) and the key's id.
    pub owner: Option<String>,
    pub submitted_by: Option<String>,
    /// A training job's budget estimate, counted by the daily training quota.
    pub training_flops: Option<f64>,
    /// The owner's limits to check at insert; `None` checks none.
    pub quota: Option<super::quota::OwnerQuota>,
}

/// Inserts many jobs in one statement and one commit (the API batches concurrent requests so
/// that one fsync covers them all). Returns the stored jobs in input order. `db` is the pool or
/// a connection the caller holds.
///
/// Inputs can be a megabyte each: Postgres does not send them back, and on success each is
/// moved from `jobs` into its returned job (leaving `null` behind) rather than copied.
pub async fn insert_batch(
    db: impl PgExecutor<'_>,
    jobs: &mut [&mut NewJob],
) -> Result<Vec<Job>, sqlx::Error> {
    let ids: Vec<Uuid> = jobs.iter().map(|j| j.id).collect();
    let kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
    let inputs: Vec<&Value> = jobs.iter().map(|j| &j.input).collect();
    let summaries: Vec<Option<&Value>> = jobs.iter().map(|j| j.input_summary.as_ref()).collect();
    let symbols: Vec<Option<&str>> = jobs.iter().map(|j| j.symbol.as_deref()).collect();
    let max_attempts: Vec<i32> = jobs.iter().map(|j| j.max_attempts).collect();
    let task_ids: Vec<Option<&str>> = jobs.iter().map(|j| j.queue_task_id.as_deref()).collect();
    let owners: Vec<Option<&str>> = jobs.iter().map(|j| j.owner.as_deref()).collect();
    let keys: Vec<Option<&str>> = jobs.iter().map(|j| j.submitted_by.as_deref()).collect();
    let flops: Vec<Option<f64>> = jobs.iter().map(|j| j.training_flops).collect();
    let sql = format!(
        "INSERT INTO jobs (id, kind, input, input_summary, symbol, max_attempts, queue_task_id,
                           enqueued_at, owner, submitted_by, training_flops)
         SELECT id, kind, input, summary, symbol, max_attempts, task_id,
                CASE WHEN task_id IS NULL THEN NULL ELSE now() END, owner, key, flops
         FROM UNNEST($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[], $5::text[], $6::int[],
                     $7::text[], $8::text[], $9::text[], $10::float8[])
              AS t(id, kind, input, summary, symbol, max_attempts, task_id, owner, key, flops)
         RETURNING {}",
        JOB_COLUMNS.replacen("input", "'null'::jsonb AS input", 1)
    );
    let rows: Vec<JobRow> = sqlx::query_as(&sql)
        .bind(&ids)
        .bind(&kinds)
        .bind(&inputs)
        .bind(&summaries)
        .bind(&symbols)
        .bind(&max_attempts)
        .bind(&task_ids)
        .bind(&owners)
        .bind(&keys)
        .bind(&flops)
        .fetch_all(db)
        .await?;
    let mut by_id: std::collections::HashMap<Uuid, Job> =
        rows.into_iter().map(Job::from).map(|j| (j.id, j)).collect();
    Ok(jobs
        .iter_mut()
        .filter_map(|new| {
            let mut job = by_id.remove(&new.id)?;
            job.input = std::mem::take(&mut new.input);
            Some(job)
        })
        .collect())
}

pub enum IdempotentInsert {
    Created(Job),
    /// A job with this key exists; `same_request` tells whether its request body was identical.
    Existing {
        job: Job,
        same_request: bool,
    },
}

/// How long an `Idempotency-Key` names its job; after that the key may be used afresh.
pub const IDEMPOTENCY_TTL_HOURS: i32 = 24;

/// Inserts unless a job of the same owner with the same `Idempotency-Key` exists (from the last
/// 24 h). Concurrent requests with one key race on the unique index: exactly one inserts, the
/// others read its job. `db` is a connection or a transaction (the quota check holds one).
pub async fn insert_idempotent(
    db: &mut sqlx::PgConnection,
    job: &NewJob,
    key: &str,
    request_hash: &str,
) -> Result<IdempotentInsert, sqlx::Error> {
    // An expired key is released first; the unique index then admits the new job.
    sqlx::query(
        "UPDATE jobs SET idempotency_key = NULL
         WHERE COALESCE(owner, '') = COALESCE($1, '') AND idempotency_key = $2
           AND created_at < now() - make_interval(hours => $3)",
    )
    .bind(&job.owner)
    .bind(key)
    .bind(IDEMPOTENCY_TTL_HOURS)
    .execute(&mut *db)
    .await?;
    let sql = format!(
        "INSERT INTO jobs (id, kind, input, input_summary, symbol, max_attempts, queue_task_id,
                           enqueued_at, idempotency_key, request_hash, owner, submitted_by,
                           training_flops)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7::text IS NULL THEN NULL ELSE now() END,
                 $8, $9, $10, $11, $12)
         ON CONFLICT (COALESCE(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL
         DO NOTHING
         RETURNING {JOB_COLUMNS}"
    );
    let inserted: Option<JobRow> = sqlx::query_as(&sql)
        .bind(job.id)
        .bind(job.kind.as_str())
        .bind(&job.input)
        .bind(&job.input_summary)
        .bind(&job.symbol)
        .bind(job.max_attempts)
        .bind(&job.queue_task_id)
        .bind(key)
        .bind(request_hash)
        .bind(&job.owner)
        .bind(&job.submitted_by)
        .bind(job.training_flops)
        .fetch_optional(&mut *db)
        .await?;
    if let Some(row) = inserted {
        return Ok(IdempotentInsert::Created(row.into()));
    }
    let existing = existing_idempotent(db, job.owner.as_deref(), key, request_hash).await?;
    Ok(existing
        .expect("the conflicting job exists: jobs are deleted only long after their key expires"))
}

/// The job of `owner` that used `key` in the last 24 h, if any.
pub async fn existing_idempotent(
    db: &mut sqlx::PgConnection,
    owner: Option<&str>,
    key: &str,
    request_hash: &str,
) -> Result<Option<IdempotentInsert>, sqlx::Error> {
    let sql = format!(
        "SELECT {JOB_COLUMNS}, request_hash FROM jobs
         WHERE COALESCE(owner, '') = COALESCE($1, '') AND idempotency_key = $2
           AND created_at >= now() - make_interval(hours => $3)"
    );
    let row = sqlx::query(&sql)
        .bind(owner)
        .bind(key)
        .bind(IDEMPOTENCY_TTL_HOURS)
        .fetch_optional(&mut *db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let stored_hash: Option<String> = sqlx::Row::try_get(&row, "request_hash")?;
    let job: JobRow = sqlx::FromRow::from_row(&row)?;
    Ok(Some(IdempotentInsert::Existing {
        job: job.into(),
        same_request: stored_hash.as_deref() == Some(request_hash),
    }))
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    let row: Option<JobRow> = sqlx::query_as(&sql).bind(id).fetch_optional(db).await?;
    Ok(row.map(Job::from))
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<JobKind>,
    pub symbol: Option<String>,
    /// Only this owner's jobs.
    pub owner: Option<String>,
    /// Only jobs older than this one (ids are UUIDv7, so id order is creation order).
    pub before: Option<Uuid>,
    pub limit: i64,
}

/// Newest first. Returns at most `limit` jobs, summarised: neither whole inputs nor results
/// leave Postgres for a list.
pub async fn list(pool: &PgPool, filter: &ListFilter) -> Result<Vec<JobSummary>, sqlx::Error> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE true"));
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(kind) = filter.kind {
        q.push(" AND kind = ").push_bind(kind.as_str());
    }
    if let Some(symbol) = &filter.symbol {
        q.push(" AND symbol = ").push_bind(symbol.clone());
    }
    if let Some(owner) = &filter.owner {
        q.push(" AND owner = ").push_bind(owner.clone());
    }
    if let Some(before) = filter.before {
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(filter.limit);
    let rows: Vec<SummaryRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(JobSummary::from).collect())
}

/// Cancels a queued job at once; flags a running one for the worker to stop at its next step.
/// Final jobs are returned unchanged. `None` when the job does not exist or, given `owner`,
/// belongs to another owner. `by` is the key that asked.
pub async fn cancel(
    pool: &PgPool,
    id: Uuid,
    owner: Option<&str>,
    by: Option<&str>,
) -> Result<Option<Job>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET
            status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
            cancel_requested = cancel_requested OR status IN ('queued', 'running'),
            finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
            progress = CASE WHEN status = 'queued'
                THEN jsonb_build_object('percent', (progress->>'percent')::real,
                                        'stage', 'cancelled', 'message', 'cancelled before it started')
                ELSE progress END,
            updated_at = CASE WHEN status IN ('queued', 'running') THEN now() ELSE updated_at END,
            cancelled_by = CASE WHEN status IN ('queued', 'running') THEN $3 ELSE cancelled_by END
         WHERE id = $1 AND ($2::text IS NULL OR owner = $2)
         RETURNING {JOB_COLUMNS}"
    );
    let row: Option<JobRow> =
        sqlx::query_as(&sql).bind(id).bind(owner).bind(by).fetch_optional(pool).await?;
    Ok(row.map(Job::from))
}

/// Puts a failed or cancelled job back in the queue as a fresh run (dead-letter re-drive).
/// `None` when there is no such job (of `owner`, when given); the job unchanged when it was
/// not failed or cancelled. `by` is the key that asked.
pub async fn retry(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    owner: Option<&str>,
    by: Option<&str>,
) -> Result<Option<(Job, bool)>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET status = 'queued', attempts = 0, result = NULL, error = NULL,
            cancel_requested = false, worker_id = NULL, lease_expires_at = NULL,
            run_after = now(), enqueued_at = NULL, queue_task_id = NULL,
            started_at = NULL, finished_at = NULL, artifacts = '[]',
            progress = '{{\"percent\": 0, \"stage\": \"queued\", \"message\": \"re-queued by a retry request\"}}',
            updated_at = now(), retried_by = $3
         WHERE id = $1 AND status IN ('failed', 'cancelled') AND ($2::text IS NULL OR owner = $2)
         RETURNING {JOB_COLUMNS}"
    );
    let row: Option<JobRow> =
        sqlx::query_as(&sql).bind(id).bind(owner).bind(by).fetch_optional(&mut *db).await?;
    match row {
        Some(row) => Ok(Some((row.into(), true))),
        None => Ok(get(&mut *db, id)
            .await?
            .filter(|job| owner.is_none() || job.owner.as_deref() == owner)
            .map(|job| (job, false))),
    }
}

/// Marks a training job's model as shared (every owner's analyses may use it) or private.
/// `None` when there is no such job.
pub async fn set_shared(pool: &PgPool, id: Uuid, shared: bool) -> Result<Option<Job>, sqlx::Error> {
    let sql = format!(
        "UPDATE jobs SET shared = $2, updated_at = now() WHERE id = $1 AND kind = 'training'
         RETURNING {JOB_COLUMNS}"
    );
    let row: Option<JobRow> =
        sqlx::query_as(&sql).bind(id).bind(shared).fetch_optional(pool).await?;
    Ok(row.map(Job::from))
}

/// The jobs among `ids` that exist (any order): one query for many SSE subscribers.
pub async fn get_many(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Job>, sqlx::Error> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ANY($1)");
    let rows: Vec<JobRow> = sqlx::query_as(&sql).bind(ids).fetch_all(pool).await?;
    Ok(rows.into_iter().map(Job::from).collect())
}

/// The jobs among `ids` that exist, as `GET /jobs` lists them (any order): one query per burst
/// of changes for every `GET /events` stream.
pub async fn summaries(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<JobSummary>, sqlx::Error> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE id = ANY($1)");
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql).bind(ids).fetch_all(pool).await?;
    Ok(rows.into_iter().map(JobSummary::from).collect())
}
