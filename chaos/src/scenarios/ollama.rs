//! Fault 5: Ollama failing (500, 503 busy, connections dropped mid-reply, replies breaking the
//! schema), then slow (3 s replies; 31 s in the long variant), then failing for good. Jobs are
//! retried with backoff up to MAX_ATTEMPTS and fail in words a user can act on; the worker never
//! crashes and never has more than ANALYSIS_CONCURRENCY calls in flight.

use std::time::{Duration, Instant};

use super::Opts;
use super::journal;
use crate::{
    audit::{Audit, Checks},
    report::Report,
};
use testkit::procs::{Env, Stack};

const CONCURRENCY: usize = 2;

pub async fn run(env: &mut Env, opts: &Opts) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "ollama").await?;
    let mut checks = Checks::default();
    let ollama = s.ollama();
    s.worker_env.insert("MAX_ATTEMPTS".into(), "3".into());
    s.worker_env.insert("ANALYSIS_CONCURRENCY".into(), CONCURRENCY.to_string());
    s.start_worker().await?;

    // A storm of faults over the first 48 calls of 30 jobs.
    ollama.fail_next_chats(12, 500, "llama runner process has terminated: signal: killed");
    ollama.busy_next_chats(12);
    ollama.drop_next_chats(12);
    ollama.break_schema_next_chats(12);
    ollama.set_chat_delay(Duration::from_millis(50));
    let mut ids = s.submit_many(30, journal).await?;
    let storm_final = s.wait_final(&ids, Duration::from_secs(120)).await?;
    checks.expect(storm_final, "jobs still open after the fault storm");

    // Slow: every reply takes longer than a typical HTTP client's patience.
    let slow = if opts.long { Duration::from_secs(31) } else { Duration::from_secs(3) };
    ollama.set_chat_delay(slow);
    let started = Instant::now();
    let slow_ids = s.submit_many(4, journal).await?;
    let slow_final = s.wait_final(&slow_ids, slow * 4 + Duration::from_secs(30)).await?;
    let slow_took = started.elapsed();
    ids.extend(&slow_ids);
    checks.expect(slow_final, "slow jobs still open");

    // Failing for good: one job, every attempt answered 500.
    ollama.set_chat_delay(Duration::ZERO);
    ollama.fail_next_chats(3, 500, "CUDA error: out of memory");
    let doomed = s.submit(&journal(99)).await?;
    ids.push(doomed);
    s.wait_final(&[doomed], Duration::from_secs(60)).await?;
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status::text, error FROM jobs WHERE id = $1")
            .bind(doomed)
            .fetch_one(&s.pool)
            .await?;
    let error = error.unwrap_or_default();
    checks.expect(status == "failed", format!("the doomed job is {status}"));
    checks.expect(
        error.starts_with("gave up after 3 attempts")
            && error.contains("500")
            && error.contains("CUDA error: out of memory"),
        format!("the doomed job's error does not say what happened: {error:?}"),
    );

    // Every failure of the storm says it gave up and why.
    let errors: Vec<String> =
        sqlx::query_scalar("SELECT error FROM jobs WHERE id = ANY($1) AND status = 'failed'")
            .bind(&ids)
            .fetch_all(&s.pool)
            .await?;
    // Each names the service or the model and what it did (a 5xx and its text, a dropped
    // connection, a reply that broke the schema twice).
    let unclear: Vec<&String> = errors
        .iter()
        .filter(|e| {
            !(e.starts_with("gave up after 3 attempts; last error: ")
                && (e.contains("Ollama") || e.contains("model \"")))
        })
        .collect();
    checks.expect(unclear.is_empty(), format!("unclear errors: {unclear:?}"));
    let retries = s.worker_metric(0, "tradeforge_job_retries_total").await;
    checks.expect(retries >= 10.0, format!("only {retries} retries recorded for 48 faults"));
    let max_in_flight = ollama.max_concurrent_chats();
    checks.expect(
        max_in_flight <= CONCURRENCY,
        format!("{max_in_flight} calls in flight (limit {CONCURRENCY})"),
    );
    checks.expect(s.workers_alive() == 1, "the worker exited");
    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    let figures = format!(
        "faults_injected=51 retries={retries} failed_with_reason={} max_llm_calls_in_flight={max_in_flight} slow_reply_s={} slow_jobs_took_s={:.1}",
        errors.len(),
        slow.as_secs(),
        slow_took.as_secs_f64()
    );
    s.stop().await;
    Ok(Report::new("ollama", &audit, checks, figures))
}
