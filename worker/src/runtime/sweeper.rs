//! Periodic upkeep, run by every worker process (all of it is safe to run concurrently):
//! push jobs waiting in Postgres, re-queue jobs whose worker died, re-push messages Redis lost,
//! and delete acknowledged apalis keys.

use std::{sync::Arc, time::Duration};

use shared::{
    db::sweeps,
    job::JobKind,
    queue::{dispatcher, janitor},
};
use tokio_util::sync::CancellationToken;

use super::Runtime;

const DISPATCH_EVERY: Duration = Duration::from_millis(250);
const LEASES_EVERY: Duration = Duration::from_secs(2);
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(10);
/// A queued job's message is checked against Redis once it is older than this.
pub const STALE_PUSH_AFTER: Duration = Duration::from_secs(30);

pub async fn run(rt: Arc<Runtime>, shutdown: CancellationToken) {
    let mut dispatch = tokio::time::interval(DISPATCH_EVERY);
    let mut leases = tokio::time::interval(LEASES_EVERY);
    let mut housekeeping = tokio::time::interval(HOUSEKEEPING_EVERY);
    for tick in [&mut dispatch, &mut leases, &mut housekeeping] {
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = dispatch.tick() => {
                recover_if_redis_lost_data(&rt).await;
                dispatch_all(&rt).await;
            }
            _ = leases.tick() => expire_leases(&rt).await,
            _ = housekeeping.tick() => housekeep(&rt).await,
        }
    }
}

async fn dispatch_all(rt: &Runtime) {
    for &kind in &rt.services.config.queues {
        match dispatcher::dispatch_once(
            &rt.services.pool,
            &rt.producer,
            kind,
            rt.services.config.queue_max_backlog,
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => {
                metrics::counter!("tradeforge_dispatched_total", "kind" => kind.as_str())
                    .increment(n);
                tracing::debug!(%kind, jobs = n, "pushed jobs waiting in Postgres");
            }
            Err(e) => tracing::warn!(error.message = %e, %kind, "dispatch failed"),
        }
    }
}

/// After Redis lost its data, every pushed message of a queued job may be gone: check them all
/// now rather than when they turn [`STALE_PUSH_AFTER`] old. (A job pushed a moment ago may be
/// pushed twice; the claim makes the second delivery a no-op.)
async fn recover_if_redis_lost_data(rt: &Runtime) {
    // Err: Redis is down, which the consumers and the dispatcher report already.
    if let Ok(true) = rt.producer.data_was_lost().await {
        for &kind in &rt.services.config.queues {
            recover_lost_pushes(rt, kind, Duration::ZERO).await;
        }
    }
}

/// Re-pushes queued jobs pushed over `older_than` ago whose message Redis no longer has.
async fn recover_lost_pushes(rt: &Runtime, kind: JobKind, older_than: Duration) {
    let mut recovered = 0;
    // Batches of 1 000: a batch that still finds lost messages may not have seen them all.
    for _ in 0..10 {
        match dispatcher::recover_lost_pushes(&rt.services.pool, &rt.producer, kind, older_than)
            .await
        {
            Ok(0) => break,
            Ok(n) => recovered += n,
            Err(e) => {
                tracing::warn!(error.message = %e, %kind, "lost-message check failed");
                break;
            }
        }
    }
    if recovered > 0 {
        metrics::counter!("tradeforge_requeues_total", "reason" => "message_lost")
            .increment(recovered);
        tracing::warn!(%kind, jobs = recovered, "queue messages were lost (Redis restarted?); re-pushing");
    }
}

async fn expire_leases(rt: &Runtime) {
    match sweeps::expire_leases(&rt.services.pool).await {
        Ok((0, 0)) => {}
        Ok((requeued, failed)) => {
            metrics::counter!("tradeforge_lease_expiries_total").increment(requeued + failed);
            metrics::counter!("tradeforge_requeues_total", "reason" => "lease_expired")
                .increment(requeued);
            metrics::counter!("tradeforge_dead_jobs_total", "reason" => "lease_expired")
                .increment(failed);
            tracing::warn!(
                requeued,
                failed,
                "jobs whose worker stopped responding were re-queued or failed"
            );
        }
        Err(e) => tracing::warn!(error.message = %e, "lease sweep failed"),
    }
}

async fn housekeep(rt: &Runtime) {
    for &kind in &rt.services.config.queues {
        recover_lost_pushes(rt, kind, STALE_PUSH_AFTER).await;
        let mut conn = rt.producer.connection();
        if let Err(e) = janitor::clean(&mut conn, rt.producer.config(kind), 100_000).await {
            tracing::warn!(error.message = %e, %kind, "cleaning acknowledged messages failed");
        }
    }
}
