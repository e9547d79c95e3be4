//! Redis transport on apalis-redis 1.0: one queue per job kind, messages carry only a job id.
//!
//! Keys are those of apalis-redis (`<queue>:data`, `<queue>:meta:<task>`, `<queue>:scheduled`,
//! `<queue>:active`, `<queue>:inflight:<worker>`, `<queue>:done`, `<queue>:dead`), with
//! `<queue>` = `<QUEUE_PREFIX>:<kind>`, plus our wake-up channel `<QUEUE_PREFIX>:wake:<kind>`.
//!
//! How it stays correct although apalis-redis is at-least-once and loses everything when Redis
//! does (see ../shared/APALIS.md): Postgres says which jobs should be queued. Every push gets a
//! fresh task id recorded in `jobs.queue_task_id`; the [`dispatcher`] pushes jobs that have no
//! live message, never letting more than `QUEUE_MAX_BACKLOG` wait in Redis (apalis-redis'
//! fetch script fails on ~8 000 due tasks), and the [`janitor`] deletes acknowledged tasks'
//! keys, which apalis-redis keeps forever.

pub mod dispatcher;
pub mod janitor;
mod message;
mod producer;

use std::time::Duration;

pub use message::QueueMessage;
pub use producer::{Producer, QueueError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::job::JobKind;

/// The apalis queue name of a kind.
pub fn queue_name(prefix: &str, kind: JobKind) -> String {
    format!("{prefix}:{kind}")
}

/// The pub/sub channel on which producers announce new messages, so idle workers fetch at
/// once instead of at their next heartbeat (apalis-redis has no push notification of its own).
pub fn wake_channel(prefix: &str, kind: JobKind) -> String {
    format!("{prefix}:wake:{kind}")
}

/// apalis-redis settings shared by producer and consumers (key names depend on them).
/// `batch_size(1)`: a prefetch buffer starves the heartbeat (APALIS.md pitfall 1).
/// `lock_tasks(false)`: the Redis-side lock only costs an O(backlog) LREM per task; our lease
/// lives in Postgres. `emit_events(false)`: nobody subscribes to apalis' own events.
pub fn apalis_config(
    prefix: &str,
    kind: JobKind,
    heartbeat: Duration,
    missed: usize,
) -> apalis_redis::Config {
    apalis_redis::Config::default()
        .queue(queue_name(prefix, kind))
        .batch_size(1)
        .heartbeat_interval(heartbeat)
        .missed_heartbeats(missed)
        .lock_tasks(false)
        .emit_events(false)
}

/// A reconnecting Redis connection whose commands time out after 5 s rather than redis-rs'
/// default 500 ms, which kills apalis workers on any brief stall (APALIS.md pitfall 4).
pub async fn connect(url: &str) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_number_of_retries(2);
    client.get_connection_manager_with_config(config).await
}

/// [`connect`], retrying for up to `patience` while Redis is still starting (compose starts
/// every service together).
pub async fn connect_with_retry(
    url: &str,
    patience: Duration,
) -> anyhow::Result<ConnectionManager> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match connect(url).await {
            Ok(conn) => return Ok(conn),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error.message = %e, "Redis not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(anyhow::Error::new(e).context("connecting to REDIS_URL")),
        }
    }
}
