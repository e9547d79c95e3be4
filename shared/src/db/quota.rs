//! Quotas counted where the jobs are: an owner's jobs queued or running, and the training
//! compute it submitted in the last 24 h. Checked in the transaction that inserts, under a
//! per-owner advisory lock, so concurrent submissions (on any api replica) cannot together
//! pass a limit that each alone respects.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::jobs::{self, IdempotentInsert, NewJob};
use crate::job::{Job, JobKind};

/// The limits of one submission's owner. `None` is unlimited.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerQuota {
    pub owner: String,
    pub max_active: Option<i64>,
    pub training_flops_per_day: Option<f64>,
}

/// Why a job was not admitted.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Active { limit: i64 },
    TrainingCompute { used: f64, asked: f64, limit: f64, retry_after: Duration },
}

/// How long a client over the active-jobs limit is asked to wait: jobs finish at their own
/// pace, so this is a polite polling interval, not a promise.
pub const ACTIVE_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Inserts the jobs their owners' quotas admit, in one transaction on `conn`. Outcomes are in
/// `jobs` order.
pub async fn insert_within_quotas(
    conn: &mut PgConnection,
    jobs: &mut [NewJob],
) -> Result<Vec<Result<Job, Refusal>>, sqlx::Error> {
    let mut owners: Vec<&str> =
        jobs.iter().filter_map(|j| j.quota.as_ref()).map(|q| q.owner.as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    let owners: Vec<String> = owners.into_iter().map(str::to_owned).collect();
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    lock_owners(&mut tx, &owners).await?;
    let caps: Vec<i64> = owners
        .iter()
        .map(|o| {
            let quotas = jobs.iter().filter_map(|j| j.quota.as_ref()).filter(|q| &q.owner == o);
            quotas.filter_map(|q| q.max_active).max().unwrap_or(i64::MAX)
        })
        .collect();
    let mut usage = usage(&mut tx, &owners, &caps).await?;
    let decisions: Vec<Option<Refusal>> = jobs
        .iter()
        .map(|job| {
            let quota = job.quota.as_ref()?;
            let used = usage.iter_mut().find(|u| u.owner == quota.owner)?;
            let refusal = used.refusal(quota, job);
            if refusal.is_none() {
                used.active += 1;
                used.training_flops += job.training_flops.unwrap_or(0.0);
            }
            refusal
        })
        .collect();
    let mut admitted: Vec<&mut NewJob> =
        jobs.iter_mut().zip(&decisions).filter(|(_, d)| d.is_none()).map(|(j, _)| j).collect();
    let mut stored = jobs::insert_batch(&mut *tx, &mut admitted).await?.into_iter();
    tx.commit().await?;
    Ok(decisions
        .into_iter()
        .map(|refusal| match refusal {
            Some(refusal) => Err(refusal),
            None => Ok(stored.next().expect("one stored job per admitted one")),
        })
        .collect())
}

/// [`jobs::insert_idempotent`] under the owner's quota: a request repeating an earlier one
/// gets its job even when the owner is now over a limit.
pub async fn insert_idempotent_within_quota(
    conn: &mut PgConnection,
    job: &NewJob,
    key: &str,
    request_hash: &str,
) -> Result<Result<IdempotentInsert, Refusal>, sqlx::Error> {
    let Some(quota) = &job.quota else {
        return jobs::insert_idempotent(conn, job, key, request_hash).await.map(Ok);
    };
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    lock_owners(&mut tx, std::slice::from_ref(&quota.owner)).await?;
    let (owners, caps) = ([quota.owner.clone()], [quota.max_active.unwrap_or(i64::MAX)]);
    let refusal = usage(&mut tx, &owners, &caps).await?.first().and_then(|u| u.refusal(quota, job));
    let outcome = match refusal {
        None => Ok(jobs::insert_idempotent(&mut tx, job, key, request_hash).await?),
        Some(refusal) => {
            match jobs::existing_idempotent(&mut tx, job.owner.as_deref(), key, request_hash)
                .await?
            {
                Some(existing) => Ok(existing),
                None => Err(refusal),
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// [`jobs::retry`] under the owner's active-jobs quota: a retried job is queued again, so it
/// counts like a new one. A job that cannot be retried (not failed or cancelled) is answered as
/// such, whatever the quota.
pub async fn retry_within_quota(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    owner: Option<&str>,
    by: Option<&str>,
    quota: Option<&OwnerQuota>,
) -> Result<Result<Option<(Job, bool)>, Refusal>, sqlx::Error> {
    let Some(quota) = quota.filter(|q| q.max_active.is_some()) else {
        return jobs::retry(conn, id, owner, by).await.map(Ok);
    };
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    lock_owners(&mut tx, std::slice::from_ref(&quota.owner)).await?;
    let retryable = jobs::get(&mut *tx, id).await?.is_some_and(|job| {
        owner.is_none_or(|o| job.owner.as_deref() == Some(o))
            && matches!(
                job.status,
                crate::job::JobStatus::Failed | crate::job::JobStatus::Cancelled
            )
    });
    let limit = quota.max_active.unwrap_or_default();
    let usage = usage(&mut tx, std::slice::from_ref(&quota.owner), &[limit]).await?;
    let outcome = if retryable && usage.first().is_some_and(|u| u.active >= limit) {
        Err(Refusal::Active { limit })
    } else {
        Ok(jobs::retry(&mut tx, id, owner, by).await?)
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Takes the owners' advisory locks until the transaction ends, in sorted order, so that two
/// transactions locking overlapping owners cannot deadlock.
async fn lock_owners(tx: &mut PgConnection, owners: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(owner, 2412))
         FROM unnest($1::text[]) AS o(owner) ORDER BY owner",
    )
    .bind(owners)
    .execute(&mut *tx)
    .await
    .map(drop)
}

struct Usage {
    owner: String,
    active: i64,
    training_flops: f64,
    oldest_training: Option<DateTime<Utc>>,
}

impl Usage {
    fn refusal(&self, quota: &OwnerQuota, job: &NewJob) -> Option<Refusal> {
        if quota.max_active.is_some_and(|limit| self.active >= limit) {
            return Some(Refusal::Active { limit: quota.max_active.unwrap_or_default() });
        }
        let (Some(limit), JobKind::Training) = (quota.training_flops_per_day, job.kind) else {
            return None;
        };
        let asked = job.training_flops.unwrap_or(0.0);
        (self.training_flops + asked > limit).then(|| {
            // The window frees its oldest job's compute first.
            let frees_at = self.oldest_training.map(|t| t + chrono::Duration::hours(24));
            let wait = frees_at.map_or(Duration::from_secs(60), |at| {
                (at - Utc::now()).to_std().unwrap_or_default().max(Duration::from_secs(1))
            });
            Refusal::TrainingCompute { used: self.training_flops, asked, limit, retry_after: wait }
        })
    }
}

/// What each owner has queued or running (counted up to its cap: past the limit the exact
/// number does not matter, so a busy owner costs no more to check than its quota) and the
/// training compute it submitted in the last 24 h.
async fn usage(
    tx: &mut PgConnection,
    owners: &[String],
    caps: &[i64],
) -> Result<Vec<Usage>, sqlx::Error> {
    let rows: Vec<(String, i64, f64, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT o.owner,
                (SELECT count(*) FROM (SELECT 1 FROM jobs
                 WHERE owner = o.owner AND status IN ('queued', 'running') LIMIT o.cap) active),
                (SELECT COALESCE(sum(training_flops), 0)::float8 FROM jobs
                 WHERE owner = o.owner AND kind = 'training' AND created_at > now() - interval '24 hours'),
                (SELECT min(created_at) FROM jobs
                 WHERE owner = o.owner AND kind = 'training' AND created_at > now() - interval '24 hours')
         FROM unnest($1::text[], $2::bigint[]) AS o(owner, cap)",
    )
    .bind(owners)
    .bind(caps)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(owner, active, training_flops, oldest_training)| Usage {
            owner,
            active,
            training_flops,
            oldest_training,
        })
        .collect())
}
