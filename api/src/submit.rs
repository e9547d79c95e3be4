//! Accepting jobs fast and durably: concurrent submissions are batched into one INSERT and
//! one commit (one fsync for many jobs), answered as soon as the commit returns, and pushed to
//! Redis right after, off the request path.
//!
//! A job is pushed directly only while Redis is reachable and its queue holds fewer than
//! `QUEUE_MAX_BACKLOG` messages; otherwise it stays in Postgres (`enqueued_at IS NULL`) and
//! the workers' dispatcher pushes it when there is room. Either way it is accepted and safe.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};
use std::time::Duration;

use shared::{
    db::{
        HeldConnection,
        jobs::{self, IdempotentInsert, NewJob},
        quota::{self, Refusal},
        sweeps,
    },
    job::{Job, JobKind},
    queue::Producer,
};
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::ApiError;

/// Largest batch one INSERT takes.
const MAX_BATCH: usize = 512;
/// Concurrent batches: enough to keep Postgres busy while one batch commits.
const INSERTERS: usize = 4;

struct Pending {
    job: NewJob,
    reply: oneshot::Sender<Result<Job, ApiError>>,
}

#[derive(Clone)]
pub struct Submitter {
    tx: mpsc::Sender<Pending>,
    pool: PgPool,
    pusher: Pusher,
}

impl Submitter {
    pub fn start(
        pool: PgPool,
        producer: Producer,
        max_backlog: u64,
        shutdown: CancellationToken,
    ) -> Self {
        let pusher = Pusher::start(pool.clone(), producer, max_backlog, shutdown);
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..INSERTERS {
            tokio::spawn(insert_loop(pool.clone(), rx.clone(), pusher.clone()));
        }
        Self { tx, pool, pusher }
    }

    /// Inserts the job (batched with concurrent submissions) and returns it once durable.
    pub async fn submit(&self, mut job: NewJob) -> Result<Job, ApiError> {
        job.queue_task_id = self.pusher.plan(job.kind);
        let (reply, answer) = oneshot::channel();
        self.tx.send(Pending { job, reply }).await.map_err(|_| ApiError::Unavailable {
            what: "the API",
            cause: "shutting down".into(),
        })?;
        answer.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("job inserter stopped")))?
    }

    /// Inserts unless the `Idempotency-Key` was used before (not batched: rare, and the
    /// conflict handling is per row).
    pub async fn submit_idempotent(
        &self,
        mut job: NewJob,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotentInsert, ApiError> {
        job.queue_task_id = self.pusher.plan(job.kind);
        let outcome = async {
            let mut conn = self.pool.acquire().await?;
            quota::insert_idempotent_within_quota(&mut conn, &job, key, request_hash).await
        }
        .await;
        let outcome = match outcome {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(refusal)) => Err(crate::quota::refused(&refusal)),
            Err(e) => Err(ApiError::from(e)),
        };
        if let (Ok(IdempotentInsert::Created(_)), Some(task_id)) = (&outcome, &job.queue_task_id) {
            self.pusher.push(job.kind, vec![(job.id, task_id.clone())]);
        } else {
            self.pusher.unplan(job.kind, job.queue_task_id.is_some());
        }
        outcome
    }
}

async fn insert_loop(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<Pending>>>, pusher: Pusher) {
    // Each inserter keeps its own connection: a pooled one costs a ping round trip per batch.
    let mut db = HeldConnection::new(pool);
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let (mut jobs, replies): (Vec<NewJob>, Vec<_>) =
            batch.into_iter().map(|p| (p.job, p.reply)).unzip();
        let outcomes = insert_isolated(&mut db, &mut jobs).await;
        for kind in JobKind::ALL {
            let messages: Vec<_> = jobs
                .iter()
                .zip(&outcomes)
                .filter(|(j, stored)| j.kind == kind && stored.is_ok())
                .filter_map(|(j, _)| Some((j.id, j.queue_task_id.clone()?)))
                .collect();
            pusher.push(kind, messages);
        }
        for ((job, reply), outcome) in jobs.iter().zip(replies).zip(outcomes) {
            if outcome.is_err() {
                pusher.unplan(job.kind, job.queue_task_id.is_some());
            }
            let _ = reply.send(outcome);
        }
    }
}

/// Inserts the batch in one statement. If Postgres refuses it for anything but being
/// unavailable, one row is to blame: each job is then inserted on its own, so that a row
/// Postgres cannot take fails only its own request. Outcomes are in `jobs` order.
async fn insert_isolated(
    db: &mut HeldConnection,
    jobs: &mut [NewJob],
) -> Vec<Result<Job, ApiError>> {
    let error = match insert(db, jobs).await {
        Ok(stored) => return stored.into_iter().map(admitted).collect(),
        Err(e) => e,
    };
    tracing::warn!(error.message = %error, jobs = jobs.len(), "inserting jobs failed");
    if jobs.len() == 1 || shared::db::is_unavailable(&error) {
        return jobs.iter().map(|_| Err(insert_error(&error))).collect();
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let outcome = insert(db, std::slice::from_mut(job)).await;
        outcomes.push(match outcome {
            Ok(mut stored) => admitted(stored.pop().expect("one outcome per job")),
            Err(e) => {
                tracing::warn!(error.message = %e, job.id = %job.id, "Postgres refused a job");
                Err(insert_error(&e))
            }
        });
    }
    outcomes
}

fn admitted(outcome: Result<Job, Refusal>) -> Result<Job, ApiError> {
    outcome.map_err(|refusal| crate::quota::refused(&refusal))
}

/// Inserts the batch: in one statement when no job has a quota to check, else in a
/// transaction that counts the owners' usage first. Outcomes are in `jobs` order.
async fn insert(
    db: &mut HeldConnection,
    jobs: &mut [NewJob],
) -> Result<Vec<Result<Job, Refusal>>, sqlx::Error> {
    let inserted = match db.get().await {
        Ok(conn) if jobs.iter().any(|j| j.quota.is_some()) => {
            quota::insert_within_quotas(conn, jobs).await
        }
        Ok(conn) => {
            let mut all: Vec<&mut NewJob> = jobs.iter_mut().collect();
            jobs::insert_batch(conn, &mut all).await.map(|v| v.into_iter().map(Ok).collect())
        }
        Err(e) => Err(e),
    };
    // A refused row leaves the connection usable; only a broken one is replaced.
    if inserted.as_ref().is_err_and(shared::db::is_unavailable) {
        db.reset();
    }
    inserted
}

fn insert_error(e: &sqlx::Error) -> ApiError {
    if shared::db::is_unavailable(e) {
        ApiError::Unavailable { what: "the database", cause: e.to_string() }
    } else {
        ApiError::Internal(anyhow::anyhow!("inserting job: {e}"))
    }
}

/// Decides which new jobs are pushed at once, and pushes them in the background.
#[derive(Clone)]
struct Pusher {
    pool: PgPool,
    producer: Producer,
    max_backlog: u64,
    /// Messages waiting in Redis per kind, as last read from Redis (bumped by our own pushes).
    backlog: Arc<[AtomicU64; 2]>,
    /// Pushes planned but not yet made, per kind: counted against the bound until they land.
    planned: Arc<[AtomicU64; 2]>,
    redis_up: Arc<AtomicBool>,
}

impl Pusher {
    fn start(
        pool: PgPool,
        producer: Producer,
        max_backlog: u64,
        shutdown: CancellationToken,
    ) -> Self {
        let pusher = Self {
            pool,
            producer,
            max_backlog,
            backlog: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
            planned: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
            redis_up: Arc::new(AtomicBool::new(true)),
        };
        tokio::spawn(pusher.clone().refresh_loop(shutdown));
        pusher
    }

    fn slot(&self, kind: JobKind) -> &AtomicU64 {
        &self.backlog[kind as usize]
    }

    fn planned(&self, kind: JobKind) -> &AtomicU64 {
        &self.planned[kind as usize]
    }

    /// A task id when the job should be pushed right after its insert, `None` to leave it to
    /// the dispatcher (Redis down, or its queue already holds `max_backlog` messages).
    fn plan(&self, kind: JobKind) -> Option<String> {
        if !self.redis_up.load(Ordering::Relaxed) {
            return None;
        }
        let waiting = self.slot(kind).load(Ordering::Relaxed);
        self.planned(kind)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (waiting + n < self.max_backlog).then_some(n + 1)
            })
            .ok()
            .map(|_| Producer::new_task_id())
    }

    fn unplan(&self, kind: JobKind, planned: bool) {
        if planned {
            self.landed(kind, 1);
        }
    }

    /// `n` planned pushes are over (made or abandoned).
    fn landed(&self, kind: JobKind, n: u64) {
        let _ = self
            .planned(kind)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| Some(p.saturating_sub(n)));
    }

    fn push(&self, kind: JobKind, messages: Vec<(Uuid, String)>) {
        if messages.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let pushed = this.producer.push(kind, &messages).await;
            if pushed.is_ok() {
                this.slot(kind).fetch_add(messages.len() as u64, Ordering::Relaxed);
            }
            this.landed(kind, messages.len() as u64);
            if let Err(e) = pushed {
                // The jobs are safe in Postgres; forgetting the push lets the dispatcher retry it.
                this.redis_up.store(false, Ordering::Relaxed);
                let ids: Vec<Uuid> = messages.iter().map(|(id, _)| *id).collect();
                tracing::warn!(error.message = %e, jobs = ids.len(), %kind, "push to Redis failed; the dispatcher will push these jobs later");
                if let Err(e) = sweeps::reset_pushes(&this.pool, &ids).await {
                    tracing::warn!(error.message = %e, "could not record the failed push; the stale-push sweep will find it");
                }
            }
        });
    }

    async fn refresh_loop(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while shutdown.run_until_cancelled(tick.tick()).await.is_some() {
            let mut up = true;
            for kind in JobKind::ALL {
                match self.producer.backlog(kind).await {
                    Ok(n) => self.slot(kind).store(n, Ordering::Relaxed),
                    Err(_) => up = false,
                }
            }
            if up != self.redis_up.swap(up, Ordering::Relaxed) {
                tracing::info!(redis_up = up, "Redis reachability changed");
            }
        }
    }
}
