//! Claims and final writes of jobs that run at the same time share statements: whatever is
//! waiting when a writer is free goes out as one UPDATE and one commit, as the API does with
//! inserts. A lone job still goes out at once (no timer), so an idle worker gains nothing and
//! loses nothing; a busy one pays one round trip, one plan and one WAL flush per batch instead
//! of per job. Every waiter is answered only after its batch committed, so what a job learns
//! (claimed, recorded) is exactly as durable as with its own statement.

use std::{sync::Arc, time::Duration};

use shared::{
    db::{
        HeldConnection,
        claims::{self, ClaimToken, Outcome},
    },
    job::Job,
};
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

/// A batch failure reaches every job in it.
pub type DbError = Arc<sqlx::Error>;

/// Largest batch one statement takes.
const MAX_BATCH: usize = 256;
/// Statements in flight per kind of write: the next batch gathers while one commits.
const WRITERS: usize = 1;

type Reply<T> = oneshot::Sender<Result<T, DbError>>;

struct ClaimRequest {
    job_id: Uuid,
    reply: Reply<Option<(Job, ClaimToken)>>,
}

struct FinishRequest {
    token: ClaimToken,
    outcome: Outcome,
    reply: Reply<bool>,
}

/// Cheap to clone. The writer tasks end when the last clone is dropped.
#[derive(Clone)]
pub struct Batcher {
    claims: mpsc::Sender<ClaimRequest>,
    finishes: mpsc::Sender<FinishRequest>,
}

impl Batcher {
    pub fn start(pool: PgPool, worker: String, lease: Duration) -> Self {
        let (claims, claim_rx) = mpsc::channel(MAX_BATCH * 4);
        let (finishes, finish_rx) = mpsc::channel(MAX_BATCH * 4);
        let (claim_rx, finish_rx) =
            (Arc::new(Mutex::new(claim_rx)), Arc::new(Mutex::new(finish_rx)));
        for _ in 0..WRITERS {
            tokio::spawn(claim_loop(pool.clone(), worker.clone(), lease, claim_rx.clone()));
            tokio::spawn(finish_loop(pool.clone(), finish_rx.clone()));
        }
        Self { claims, finishes }
    }

    /// [`claims::claim`], batched with concurrent claims of this process.
    pub async fn claim(&self, job_id: Uuid) -> Result<Option<(Job, ClaimToken)>, DbError> {
        let (reply, answer) = oneshot::channel();
        self.claims.send(ClaimRequest { job_id, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// [`claims::finish`], batched with concurrent finishes of this process.
    pub async fn finish(&self, token: &ClaimToken, outcome: &Outcome) -> Result<bool, DbError> {
        let (reply, answer) = oneshot::channel();
        let request = FinishRequest { token: token.clone(), outcome: outcome.clone(), reply };
        self.finishes.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer task is gone (the runtime is shutting down): as good as an unreachable database.
fn stopped() -> DbError {
    Arc::new(sqlx::Error::PoolClosed)
}

/// Waits for one request, then takes whatever else is already waiting, up to [`MAX_BATCH`].
async fn next_batch<T>(rx: &Mutex<mpsc::Receiver<T>>) -> Option<Vec<T>> {
    let mut rx = rx.lock().await;
    let first = rx.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn claim_loop(
    pool: PgPool,
    worker: String,
    lease: Duration,
    rx: Arc<Mutex<mpsc::Receiver<ClaimRequest>>>,
) {
    let mut db = HeldConnection::new(pool);
    while let Some(batch) = next_batch(&rx).await {
        let ids: Vec<Uuid> = batch.iter().map(|r| r.job_id).collect();
        tracing::debug!(claims = ids.len(), "claim batch");
        let claimed = match db.get().await {
            Ok(conn) => claims::claim_many(conn, &ids, &worker, lease).await,
            Err(e) => Err(e),
        };
        match claimed {
            Ok(claimed) => {
                for (request, claimed) in batch.into_iter().zip(claimed) {
                    let _ = request.reply.send(Ok(claimed));
                }
            }
            Err(e) => {
                db.reset();
                let e = Arc::new(e);
                for request in batch {
                    let _ = request.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

async fn finish_loop(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<FinishRequest>>>) {
    let mut db = HeldConnection::new(pool);
    while let Some(batch) = next_batch(&rx).await {
        tracing::debug!(finishes = batch.len(), "finish batch");
        let finished: Vec<(&ClaimToken, &Outcome)> =
            batch.iter().map(|r| (&r.token, &r.outcome)).collect();
        let result = match db.get().await {
            Ok(conn) => claims::finish_many(conn, &finished).await,
            Err(e) => Err(e),
        };
        drop(finished);
        match result {
            Ok(recorded) => {
                for (request, recorded) in batch.into_iter().zip(recorded) {
                    let _ = request.reply.send(Ok(recorded));
                }
            }
            Err(e) => {
                db.reset();
                let e = Arc::new(e);
                for request in batch {
                    let _ = request.reply.send(Err(e.clone()));
                }
            }
        }
    }
}
