//! Fault 2: SIGTERM during jobs. Within the grace period the jobs finish in the stopping worker;
//! past it they are handed back at once (not after the lease) and another worker runs them,
//! without the interrupted attempt counting against the job.

use std::time::{Duration, Instant};

use super::{held_by, journal, until, until_released};
use crate::{
    audit::{Audit, Checks},
    report::Report,
};
use testkit::procs::{Env, Stack};

async fn wait_held(s: &Stack<'_>, worker: &str, n: usize) -> anyhow::Result<Vec<uuid::Uuid>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let held = held_by(&s.pool, worker).await?;
        if held.len() >= n || Instant::now() > deadline {
            return Ok(held);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "term").await?;
    let mut checks = Checks::default();

    // Within the grace period: 1.5 s jobs, 10 s grace.
    s.ollama().set_chat_delay(Duration::from_millis(1500));
    s.worker_env.insert("SHUTDOWN_TIMEOUT_S".into(), "10".into());
    let a = s.start_worker().await?;
    let mut ids = s.submit_many(2, journal).await?;
    let held = wait_held(&s, &s.workers[a].name.clone(), 2).await?;
    let exit_graceful = s.terminate_worker(a).await?;
    let finished_by_it: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE id = ANY($1) AND status = 'succeeded' AND attempts = 1",
    )
    .bind(&held)
    .fetch_one(&s.pool)
    .await?;
    checks.expect(held.len() == 2, format!("the worker held {} jobs, not 2", held.len()));
    checks.expect(
        finished_by_it == 2,
        format!("{finished_by_it} of 2 jobs finished within the grace period"),
    );
    checks.expect(exit_graceful < Duration::from_secs(10), format!("exit took {exit_graceful:?}"));

    // Past the grace period: 8 s jobs, 1 s grace, a second worker standing by.
    s.ollama().set_chat_delay(Duration::from_secs(8));
    s.worker_env.insert("SHUTDOWN_TIMEOUT_S".into(), "1".into());
    let b = s.start_worker().await?;
    ids.extend(s.submit_many(2, journal).await?);
    let b_name = s.workers[b].name.clone();
    let held = wait_held(&s, &b_name, 2).await?;
    // Both 8 s calls must have reached the double before replies are made quick again (a
    // call's delay is fixed when it arrives).
    let ollama = s.ollama();
    let arrived = until(Duration::from_secs(10), async || ollama.chats_in_flight() == 2).await;
    checks.expect(arrived, "the stopping worker's calls never arrived");
    s.ollama().set_chat_delay(Duration::from_millis(200));
    s.worker_env.remove("SHUTDOWN_TIMEOUT_S");
    s.start_worker().await?;
    let at = Instant::now();
    let released = tokio::spawn(until_released(s.pool.clone(), held.clone(), b_name, at));
    let exit_past_grace = s.terminate_worker(b).await?;
    let released = released.await?;
    let all_final = s.wait_final(&ids, Duration::from_secs(60)).await?;
    checks.expect(held.len() == 2, format!("the second worker held {} jobs, not 2", held.len()));
    checks.expect(
        exit_past_grace < Duration::from_secs(4),
        format!("exit past the grace took {exit_past_grace:?}"),
    );
    checks.expect(
        released < Duration::from_secs(5),
        format!("handed back after {released:?} (lease is 20 s)"),
    );
    checks.expect(all_final, "jobs still open");

    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    checks.expect(audit.count("succeeded") == ids.len(), "not every job succeeded");
    checks.expect(
        audit.max_attempts == 1,
        format!("an interrupted attempt counted (max attempts {})", audit.max_attempts),
    );
    let figures = format!(
        "exit_within_grace_s={:.2} exit_past_grace_s={:.2} handed_back_s={:.2}",
        exit_graceful.as_secs_f64(),
        exit_past_grace.as_secs_f64(),
        released.as_secs_f64()
    );
    s.stop().await;
    Ok(Report::new("term", &audit, checks, figures).with_recovery(released.as_secs_f64()))
}
