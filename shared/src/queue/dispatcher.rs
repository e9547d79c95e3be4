//! Moves jobs from Postgres into Redis, never letting more than a bounded backlog wait there.
//!
//! Postgres holds every queued job; Redis only ever holds a window of them. That keeps
//! apalis-redis below the ~8 000 due-task limit of its fetch script (APALIS.md pitfall 2),
//! keeps Redis memory bounded under a burst, and re-queues whatever Redis lost.

use std::time::Duration;

use sqlx::PgPool;

use super::{Producer, QueueError};
use crate::{db::sweeps, job::JobKind};

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Pushes due, never-pushed jobs of `kind` until Redis holds `max_backlog` messages.
/// Returns how many it pushed. Safe to run from several processes at once.
pub async fn dispatch_once(
    pool: &PgPool,
    producer: &Producer,
    kind: JobKind,
    max_backlog: u64,
) -> Result<u64, DispatchError> {
    let mut pushed = 0;
    loop {
        let room = max_backlog.saturating_sub(producer.backlog(kind).await?);
        if room == 0 {
            return Ok(pushed);
        }
        let mut tx = pool.begin().await?;
        let ids = sweeps::lock_unpushed(&mut tx, kind, room.min(1000) as i64).await?;
        if ids.is_empty() {
            return Ok(pushed);
        }
        // If the commit fails after the push, the messages are duplicates of a later push:
        // harmless, the claim in Postgres lets only one execution run.
        let task_ids: Vec<String> = ids.iter().map(|_| Producer::new_task_id()).collect();
        let messages: Vec<_> = ids.iter().copied().zip(task_ids.iter().cloned()).collect();
        producer.push(kind, &messages).await?;
        sweeps::mark_pushed(&mut tx, &ids, &task_ids).await?;
        tx.commit().await?;
        pushed += ids.len() as u64;
    }
}

/// Finds queued jobs pushed longer than `older_than` ago whose message is no longer in Redis
/// (Redis restarted without persistence, or wiped) and makes them pushable again.
/// Returns how many were lost.
pub async fn recover_lost_pushes(
    pool: &PgPool,
    producer: &Producer,
    kind: JobKind,
    older_than: Duration,
) -> Result<u64, DispatchError> {
    let stale = sweeps::stale_pushes(pool, kind, older_than, 1000).await?;
    if stale.is_empty() {
        return Ok(0);
    }
    let task_ids: Vec<String> = stale.iter().map(|(_, t)| t.clone().unwrap_or_default()).collect();
    let pending = producer.pending(kind, &task_ids).await?;
    let (waiting, lost): (Vec<_>, Vec<_>) =
        stale.iter().zip(pending).partition(|(_, is_pending)| *is_pending);
    let waiting: Vec<_> = waiting.into_iter().map(|((id, _), _)| *id).collect();
    let lost: Vec<_> = lost.into_iter().map(|((id, _), _)| *id).collect();
    sweeps::touch_pushes(pool, &waiting).await?;
    if !lost.is_empty() {
        sweeps::reset_pushes(pool, &lost).await?;
    }
    Ok(lost.len() as u64)
}
