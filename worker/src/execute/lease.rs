//! Keeps a claimed job's lease alive, writes its progress (throttled), and notices when the
//! user cancels it or another worker takes it over.

use std::time::Duration;

use shared::db::claims::{self, ClaimToken, LeaseState};
use shared::job::Progress;
use sqlx::PgPool;
use tokio::{sync::watch, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::job::{JobContext, StopReason};

/// Progress is written at most this often; the lease is renewed at least every lease/3.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);
/// Progress is first written this long after the claim, so that jobs which finish within it
/// (an instant LLM) write their claim and their result and nothing between.
const FIRST_PROGRESS_AFTER: Duration = Duration::from_millis(20);

pub struct LeaseKeeper {
    done: CancellationToken,
    task: JoinHandle<()>,
}

impl LeaseKeeper {
    pub fn start(
        pool: PgPool,
        token: ClaimToken,
        lease: Duration,
        ctx: JobContext,
        progress: watch::Receiver<Option<Progress>>,
    ) -> Self {
        let done = CancellationToken::new();
        let task = tokio::spawn(keep(pool, token, lease, ctx, progress, done.clone()));
        Self { done, task }
    }

    /// Stops renewing, after writing the last reported progress.
    pub async fn stop(self) {
        self.done.cancel();
        let _ = self.task.await;
    }
}

async fn keep(
    pool: PgPool,
    token: ClaimToken,
    lease: Duration,
    ctx: JobContext,
    mut progress: watch::Receiver<Option<Progress>>,
    done: CancellationToken,
) {
    let mut renew = tokio::time::interval(lease / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    renew.tick().await; // the claim itself just set the lease
    // The claim wrote the attempt's first progress ("starting"); what the pipeline reports next
    // is written FIRST_PROGRESS_AFTER after the claim at the earliest: a job that is over by
    // then costs no progress write at all (its final write records the last progress).
    let mut next_write = tokio::time::Instant::now() + FIRST_PROGRESS_AFTER;
    loop {
        let pending = tokio::select! {
            biased;
            // The final write (finish) records the last progress; nothing to flush here.
            _ = done.cancelled() => return,
            changed = progress.changed() => {
                if changed.is_err() { return; }
                // Throttle: at most one progress write per interval, never delaying the stop.
                tokio::select! {
                    _ = done.cancelled() => return,
                    _ = tokio::time::sleep_until(next_write) => {}
                }
                progress.borrow_and_update().clone()
            }
            _ = renew.tick() => None,
        };
        next_write = tokio::time::Instant::now() + PROGRESS_INTERVAL;
        match claims::renew(&pool, &token, lease, pending.as_ref()).await {
            Ok(LeaseState::Held { cancel_requested: true }) => ctx.stop(StopReason::Cancelled),
            Ok(LeaseState::Held { .. }) => {}
            Ok(LeaseState::Lost) => {
                tracing::warn!("lease lost: another worker owns this job now; stopping");
                ctx.stop(StopReason::LeaseLost);
                return;
            }
            // Postgres briefly down: keep working; the final write retries, and if the lease
            // expires meanwhile the job is re-run elsewhere and this result is fenced out.
            Err(e) => tracing::warn!(error.message = %e, "could not renew the lease"),
        }
    }
}
