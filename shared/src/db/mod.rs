//! Postgres: the source of truth for every job.
//!
//! Queries are written with runtime-checked `sqlx::query` so the build needs no database; every
//! query is exercised by the integration tests against a real Postgres.

pub mod claims;
pub mod counts;
pub mod jobs;
pub mod market;
pub mod quota;
pub mod sweeps;

mod row;

use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection, postgres::PgPoolOptions};

pub use row::JOB_COLUMNS;

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Connects (lazily: a pool that is down at start-up connects when it comes back, so `/ready`
/// can report 503 instead of the process crashing) and bounds how long a query waits for a
/// connection, so an outage turns into quick errors rather than hung requests.
///
/// sqlx pings every connection before lending it by default: one extra round trip to Postgres
/// per query, a third of a worker's round trips per job. Only connections that sat idle are
/// pinged here; a busy one that broke fails its query, which callers already treat as
/// Postgres being unavailable (the worker retries, the API answers 503), and is discarded.
pub fn connect_lazy(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_lazy(url)
}

/// One connection kept by a long-lived writer (the API's inserters, the worker's batched
/// claims and finishes) instead of being borrowed from the pool per statement: sqlx pings a
/// connection when it goes back to the pool, one more round trip per statement. Pinged, like
/// pooled ones, only after sitting idle; after a failed statement call [`Self::reset`] and the
/// next [`Self::get`] takes a fresh one.
///
/// After a failure the next `get` first opens a connection of its own, outside the pool: while
/// Postgres is down that fails in a millisecond (connection refused, "shutting down"), where the
/// pool would keep retrying for its whole acquire timeout, so that every batch during an
/// outage, not only the first, is answered with an error at once.
pub struct HeldConnection {
    pool: PgPool,
    conn: Option<PoolConnection<Postgres>>,
    last_used: Instant,
    suspect: bool,
}

/// Longest the probe after a failure may take (a host that drops packets).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

impl HeldConnection {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, conn: None, last_used: Instant::now(), suspect: false }
    }

    async fn probe(&self) -> Result<(), sqlx::Error> {
        let options = self.pool.connect_options();
        let connect = <PgConnection as sqlx::Connection>::connect_with(&options);
        match tokio::time::timeout(PROBE_TIMEOUT, connect).await {
            Ok(Ok(conn)) => {
                let _ = sqlx::Connection::close(conn).await;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// The held connection; acquired from the pool first when there is none (or it failed its
    /// ping after sitting idle).
    pub async fn get(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        if self.last_used.elapsed() >= PING_IF_IDLE_FOR
            && let Some(conn) = self.conn.as_mut()
            && sqlx::Connection::ping(&mut **conn).await.is_err()
        {
            self.reset();
        }
        self.last_used = Instant::now();
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => {
                if self.suspect {
                    self.probe().await?;
                    self.suspect = false;
                }
                self.pool.acquire().await.inspect_err(|_| self.suspect = true)?
            }
        };
        Ok(&mut **self.conn.insert(conn))
    }

    /// Gives the connection back after a failed statement (the pool closes it if it is broken).
    pub fn reset(&mut self) {
        self.conn = None;
        self.suspect = true;
    }
}

/// Runs the migrations, retrying while Postgres is still starting (compose starts services
/// together). Concurrent callers are serialised by sqlx's migration lock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut delay = Duration::from_millis(250);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match sqlx::migrate!("./migrations").run(pool).await {
            Ok(()) => return Ok(()),
            Err(sqlx::migrate::MigrateError::Execute(e)) if is_unavailable(&e) => {
                if tokio::time::Instant::now() > deadline {
                    anyhow::bail!("Postgres is unreachable, cannot run migrations: {e}");
                }
                tracing::warn!(error = %e, "Postgres not reachable yet; retrying migrations");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(anyhow::Error::new(e).context("running database migrations")),
        }
    }
}

/// Connection-level failures (as opposed to a bad query): the database is down or unreachable.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
            // A connection cut mid-handshake (e.g. Postgres restarting) surfaces as a protocol error.
            | sqlx::Error::Protocol(_)
    ) || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")))
}
