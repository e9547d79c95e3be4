//! Executing one delivery: claim in Postgres, run the pipeline under a lease, a timeout and a
//! cancel flag, write artifacts, record exactly one outcome.

mod artifacts;
mod backoff;
mod batch;
mod bounds;
mod inflight;
mod lease;

use std::{sync::Arc, time::Duration};

use artifacts::ArtifactError;
pub use backoff::backoff;
pub use batch::{Batcher, DbError};
pub use inflight::Inflight;
use lease::LeaseKeeper;
use shared::{
    db::claims::{self, ClaimToken, Outcome},
    job::{Job, JobKind, JobSpec},
    queue::QueueMessage,
};
use tracing::Instrument;

use crate::{
    job::{JobContext, JobError, JobOutput, StopReason},
    pipeline,
    runtime::Runtime,
};

/// Postgres could not be reached to claim the job: the delivery should be retried by apalis.
#[derive(Debug, thiserror::Error)]
#[error("could not claim job {job_id}: {source}")]
pub struct ClaimError {
    pub job_id: uuid::Uuid,
    #[source]
    pub source: DbError,
}

/// Runs one delivery to completion. Duplicate or stale deliveries are skipped harmlessly.
pub async fn execute(rt: Arc<Runtime>, msg: QueueMessage) -> Result<(), ClaimError> {
    let span = tracing::info_span!("job", job.id = %msg.job_id, job.kind = %msg.kind, attempt = tracing::field::Empty);
    async move {
        let _permit = rt.permit(msg.kind).await;
        let Some((job, token)) = claim(&rt, &msg).await? else {
            tracing::debug!(
                "delivery skipped: job finished, cancelled, backing off or owned elsewhere"
            );
            metrics::counter!("tradeforge_deliveries_skipped_total", "kind" => msg.kind.as_str())
                .increment(1);
            return Ok(());
        };
        tracing::Span::current().record("attempt", token.attempt);
        tracing::info!(max_attempts = job.max_attempts, "job started");
        let started = std::time::Instant::now();
        let outcome = run(&rt, &job, &token).await;
        if let Some(outcome) = outcome {
            record(&rt, &token, &job, outcome, started.elapsed()).await;
        }
        Ok(())
    }
    .instrument(span)
    .await
}

async fn claim(rt: &Runtime, msg: &QueueMessage) -> Result<Option<(Job, ClaimToken)>, ClaimError> {
    let mut delay = Duration::from_millis(200);
    for _ in 0..5 {
        match rt.batcher.claim(msg.job_id).await {
            Ok(claimed) => return Ok(claimed),
            Err(e) if shared::db::is_unavailable(&e) => {
                tracing::warn!(error.message = %e, "Postgres unavailable while claiming; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(source) => return Err(ClaimError { job_id: msg.job_id, source }),
        }
    }
    let source = std::sync::Arc::new(sqlx::Error::PoolTimedOut);
    Err(ClaimError { job_id: msg.job_id, source })
}

/// Runs the pipeline; `None` when there is nothing to record (the job is owned elsewhere now).
async fn run(rt: &Arc<Runtime>, job: &Job, token: &ClaimToken) -> Option<Outcome> {
    let spec = match JobSpec::from_stored(job.kind, &job.input) {
        Ok(spec) => spec,
        Err(e) => {
            return Some(Outcome::Failed { error: format!("stored input is unreadable: {e}") });
        }
    };
    let config = &rt.services.config;
    let (ctx, progress) = JobContext::new(job.id, token.attempt, job.owner.as_deref());
    let keeper = LeaseKeeper::start(
        rt.services.pool.clone(),
        token.clone(),
        config.lease,
        ctx.clone(),
        progress,
    );
    rt.inflight.insert(token.clone(), ctx.clone());
    let limit = config.timeout(job.kind);
    let result = match tokio::time::timeout(limit, pipeline::run(&rt.services, &spec, &ctx)).await {
        Ok(result) => result,
        Err(_) => {
            ctx.stop(StopReason::TimedOut); // a blocking training loop sees this at its next step
            Err(JobError::Stopped(StopReason::TimedOut))
        }
    };
    let outcome = match result {
        Ok(output) => Some(succeeded(rt, job, token, output).await),
        Err(JobError::Stopped(StopReason::Cancelled)) => {
            Some(Outcome::Cancelled { message: "cancelled while running".into() })
        }
        Err(JobError::Stopped(StopReason::LeaseLost)) => None,
        Err(JobError::Stopped(StopReason::Shutdown)) => {
            if let Err(e) = claims::release(&rt.services.pool, std::slice::from_ref(token)).await {
                tracing::warn!(error.message = %e, "could not hand the job back; its lease will expire");
            }
            None
        }
        Err(JobError::Stopped(StopReason::TimedOut)) => Some(timed_out(rt, job, token, limit)),
        Err(JobError::Transient(error)) => {
            Some(retry_or_fail(rt, token, bounds::storable(error), Duration::ZERO))
        }
        Err(JobError::Throttled { message, wait }) => {
            Some(retry_or_fail(rt, token, bounds::storable(message), wait))
        }
        Err(JobError::Permanent(error)) => Some(Outcome::Failed { error: bounds::storable(error) }),
    };
    keeper.stop().await;
    rt.inflight.remove(job.id);
    outcome
}

/// Bounds the result and writes the files; a result or file over its limit fails the job (the
/// same run would produce it again), a disk error is retried.
async fn succeeded(rt: &Runtime, job: &Job, token: &ClaimToken, output: JobOutput) -> Outcome {
    let config = &rt.services.config;
    let result = match bounds::bound_result(output.result, config.max_result_bytes) {
        Ok(result) => result,
        Err(error) => return Outcome::Failed { error },
    };
    match artifacts::write_all(&config.results_dir, job.id, output.files, config.max_artifact_bytes)
        .await
    {
        Ok(artifacts) => Outcome::Succeeded { result, artifacts },
        Err(e @ ArtifactError::TooLarge { .. }) => Outcome::Failed { error: e.to_string() },
        Err(e) => retry_or_fail(rt, token, e.to_string(), Duration::ZERO),
    }
}

/// A training attempt that ran out of time would run out again: it fails at once unless
/// `RETRY_TIMED_OUT_TRAINING` says otherwise. Other kinds retry (a slow LLM may recover).
fn timed_out(rt: &Runtime, job: &Job, token: &ClaimToken, limit: Duration) -> Outcome {
    let secs = limit.as_secs();
    if job.kind == JobKind::Training && !rt.services.config.retry_timed_out_training {
        return Outcome::Failed {
            error: format!(
                "training ran past TRAINING_TIMEOUT_S ({secs}s) and was stopped; lower max_steps, \
                 windows_batch_size, input_size or mlp_width, or raise TRAINING_TIMEOUT_S"
            ),
        };
    }
    retry_or_fail(rt, token, format!("attempt timed out after {secs}s"), Duration::ZERO)
}

/// Another attempt after the backoff (at least `at_least`: a busy server's `Retry-After`), or
/// the job fails when its attempts are used up.
fn retry_or_fail(rt: &Runtime, token: &ClaimToken, error: String, at_least: Duration) -> Outcome {
    if token.attempt < rt.services.config.common.max_attempts {
        let config = &rt.services.config;
        let delay = backoff(token.attempt, config.retry_base, config.retry_max).max(at_least);
        Outcome::Retry { error, delay }
    } else {
        Outcome::Failed {
            error: format!("gave up after {} attempts; last error: {error}", token.attempt),
        }
    }
}

/// Writes the outcome, retrying while Postgres is unavailable (bounded by the lease: past it the
/// job belongs to whoever re-claims it, and this write would be fenced out anyway).
async fn record(rt: &Runtime, token: &ClaimToken, job: &Job, outcome: Outcome, took: Duration) {
    let label = match &outcome {
        Outcome::Succeeded { .. } => "succeeded",
        Outcome::Failed { .. } => "failed",
        Outcome::Cancelled { .. } => "cancelled",
        Outcome::Retry { .. } => "retry",
    };
    let deadline = tokio::time::Instant::now() + rt.services.config.lease * 2;
    let mut delay = Duration::from_millis(100);
    loop {
        match rt.batcher.finish(token, &outcome).await {
            Ok(true) => break,
            Ok(false) => {
                tracing::warn!(
                    "result discarded: the job was re-claimed by another worker meanwhile"
                );
                metrics::counter!("tradeforge_results_fenced_total", "kind" => job.kind.as_str())
                    .increment(1);
                return;
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error.message = %e, "could not record the outcome; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                tracing::error!(error.message = %e, "giving up recording the outcome; the lease will expire and the job re-run");
                return;
            }
        }
    }
    metrics::counter!("tradeforge_jobs_finished_total", "kind" => job.kind.as_str(), "outcome" => label).increment(1);
    metrics::histogram!("tradeforge_job_duration_seconds", "kind" => job.kind.as_str())
        .record(took.as_secs_f64());
    match &outcome {
        Outcome::Succeeded { .. } => tracing::info!(seconds = took.as_secs_f64(), "job succeeded"),
        Outcome::Retry { error, delay } => {
            metrics::counter!("tradeforge_job_retries_total", "kind" => job.kind.as_str())
                .increment(1);
            tracing::warn!(error.message = %error, retry_in_s = delay.as_secs_f64(), "attempt failed; will retry");
        }
        Outcome::Failed { error } => tracing::warn!(error.message = %error, "job failed"),
        Outcome::Cancelled { .. } => tracing::info!("job cancelled"),
    }
}
