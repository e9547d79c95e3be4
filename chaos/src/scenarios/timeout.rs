//! Fault 8: an attempt over ANALYSIS_TIMEOUT_S is stopped, retried after a backoff, and failed
//! when attempts run out; the slot it held is free at once for the next job.

use std::time::{Duration, Instant};

use super::journal;
use super::until;
use testkit::procs::{Env, Stack};

use crate::{
    audit::{Audit, Checks},
    report::Report,
};

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "timeout").await?;
    let mut checks = Checks::default();
    let ollama = s.ollama();
    for (k, v) in [
        ("ANALYSIS_TIMEOUT_S", "1"),
        ("MAX_ATTEMPTS", "2"),
        ("ANALYSIS_CONCURRENCY", "1"),
        ("RETRY_BASE_MS", "2000"),
    ] {
        s.worker_env.insert(k.into(), v.into());
    }
    s.start_worker().await?;

    // The slow job's first attempt: its call hangs for 30 s.
    ollama.delay_next_chats(1, Duration::from_secs(30));
    let slow = s.submit(&journal(1)).await?;
    checks.expect(
        until(Duration::from_secs(10), async || ollama.chats_in_flight() == 1).await,
        "the slow call never arrived",
    );
    // The next job gets the only slot as soon as the slow attempt is stopped.
    let submitted = Instant::now();
    let quick = s.submit(&journal(2)).await?;
    s.wait_final(&[quick], Duration::from_secs(20)).await?;
    let quick_s = submitted.elapsed().as_secs_f64();
    // The retry of the slow job hangs again (it arrives after a 1-2 s backoff).
    ollama.delay_next_chats(1, Duration::from_secs(30));
    let failed = s.wait_final(&[slow], Duration::from_secs(20)).await?;
    let failed_after = submitted.elapsed().as_secs_f64();
    let (status, attempts, error): (String, i32, Option<String>) =
        sqlx::query_as("SELECT status::text, attempts, error FROM jobs WHERE id = $1")
            .bind(slow)
            .fetch_one(&s.pool)
            .await?;
    let error = error.unwrap_or_default();
    // The freed slot serves again after the last timeout.
    let after = s.submit(&journal(3)).await?;
    let after_ok = s.wait_final(&[after], Duration::from_secs(10)).await?;

    checks.expect(quick_s < 3.0, format!("the next job waited {quick_s:.1} s for the slot"));
    checks.expect(
        failed && status == "failed" && attempts == 2,
        format!("the slow job is {status} after {attempts} attempts"),
    );
    checks.expect(
        error == "gave up after 2 attempts; last error: attempt timed out after 1s",
        format!("error: {error:?}"),
    );
    checks.expect(after_ok, "a job after the timeouts did not run");
    checks.expect(s.workers_alive() == 1, "the worker exited");
    let ids = [slow, quick, after];
    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    checks.expect(audit.count("succeeded") == 2, "the quick jobs did not both succeed");
    let figures = format!(
        "next_job_done_s={quick_s:.2} slow_job_failed_after_s={failed_after:.1} attempts={attempts}"
    );
    s.stop().await;
    Ok(Report::new("timeout", &audit, checks, figures))
}
