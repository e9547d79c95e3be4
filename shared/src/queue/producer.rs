//! Pushing messages and reading queue state in Redis.

use std::time::Duration;

use apalis_core::task::{builder::TaskBuilder, task_id::TaskId};
use apalis_redis::{Config, RedisTask};
use redis::aio::ConnectionManager;
use uuid::Uuid;

use super::{QueueMessage, apalis_config, wake_channel};
use crate::job::JobKind;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis queue: {0}")]
    Apalis(#[from] apalis_redis::Error),
}

/// Pushes job messages and inspects the queues. Cheap to clone (one shared connection).
#[derive(Clone)]
pub struct Producer {
    conn: ConnectionManager,
    prefix: String,
    analysis: Config,
    training: Config,
}

impl Producer {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        // Heartbeat settings do not affect key names; the producer never heartbeats.
        let config = |kind| apalis_config(prefix, kind, Duration::from_secs(5), 6);
        Self {
            conn,
            prefix: prefix.to_owned(),
            analysis: config(JobKind::Analysis),
            training: config(JobKind::Training),
        }
    }

    /// The shared Redis connection and the key prefix, for other counters kept beside the
    /// queues (the api's rate limits).
    pub fn redis(&self) -> (ConnectionManager, &str) {
        (self.conn.clone(), &self.prefix)
    }

    pub fn config(&self, kind: JobKind) -> &Config {
        match kind {
            JobKind::Analysis => &self.analysis,
            JobKind::Training => &self.training,
        }
    }

    /// A fresh apalis task id. Every push gets its own, recorded in Postgres before or with the
    /// push, so that a re-push never collides with an old message of the same job.
    pub fn new_task_id() -> String {
        Uuid::new_v4().to_string()
    }

    /// Pushes `(job id, task id)` messages in one round trip, then wakes idle workers.
    pub async fn push(&self, kind: JobKind, jobs: &[(Uuid, String)]) -> Result<(), QueueError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let tasks: Vec<RedisTask> = jobs
            .iter()
            .map(|(id, task_id)| {
                TaskBuilder::new(QueueMessage::new(*id, kind).encode())
                    .task_id(TaskId::from_string(task_id.clone()))
                    .build()
            })
            .collect();
        let mut conn = self.conn.clone();
        apalis_redis::queries::push_tasks(&mut conn, self.config(kind), &tasks).await?;
        self.wake(kind).await
    }

    /// Tells idle workers of `kind` to fetch now.
    pub async fn wake(&self, kind: JobKind) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(wake_channel(&self.prefix, kind))
            .arg(1)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    /// Messages waiting in Redis (scheduled + ready), not counting those being worked on.
    pub async fn backlog(&self, kind: JobKind) -> Result<u64, QueueError> {
        let config = self.config(kind);
        let mut conn = self.conn.clone();
        let (scheduled, active): (u64, u64) = redis::pipe()
            .zcard(config.scheduled_jobs_set())
            .llen(config.active_jobs_list())
            .query_async(&mut conn)
            .await?;
        Ok(scheduled + active)
    }

    /// For each task id: is its message still waiting or being worked on (not yet acknowledged)?
    /// A task whose data is gone (Redis restarted or wiped) or that is acknowledged is not.
    pub async fn pending(
        &self,
        kind: JobKind,
        task_ids: &[String],
    ) -> Result<Vec<bool>, QueueError> {
        let config = self.config(kind);
        let mut pipe = redis::pipe();
        for id in task_ids {
            pipe.hexists(config.job_data_hash(), id)
                .sismember(config.done_jobs_set(), id)
                .sismember(config.dead_jobs_set(), id);
        }
        let mut conn = self.conn.clone();
        let flags: Vec<bool> = pipe.query_async(&mut conn).await?;
        Ok(flags.chunks(3).map(|f| f[0] && !f[1] && !f[2]).collect())
    }

    /// Sets `<prefix>:epoch` unless it exists; `true` when it had to be set, i.e. when this
    /// Redis has lost its data (restarted without persistence, flushed) since the last call
    /// anywhere, or is new. One round trip: cheap enough to ask every dispatch tick.
    pub async fn data_was_lost(&self) -> Result<bool, QueueError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}:epoch", self.prefix))
            .arg(chrono::Utc::now().to_rfc3339())
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    pub async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}
