//! Fault 9: duplicate deliveries of every job racing each other on three workers, and cancels
//! racing completion. Either way: one final state, one execution where only one can run, one
//! result file set, and a cancelled job leaves no result behind.

use std::time::Duration;

use rand::Rng;
use shared::{job::JobKind, queue::Producer};
use uuid::Uuid;

use testkit::procs::{Env, Stack};

use super::journal;
use crate::{
    audit::{Audit, Checks},
    report::Report,
};

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "races").await?;
    let mut checks = Checks::default();
    let ollama = s.ollama();

    // Duplicates: three messages per job waiting before any worker starts.
    let dup_ids = s.submit_many(100, journal).await?;
    let producer = Producer::new(shared::queue::connect(&s.env.redis.url()).await?, &s.prefix);
    for _ in 0..2 {
        let extra: Vec<(Uuid, String)> =
            dup_ids.iter().map(|id| (*id, Producer::new_task_id())).collect();
        producer.push(JobKind::Analysis, &extra).await?;
    }
    s.start_workers(3).await?;
    let dup_final = s.wait_final(&dup_ids, Duration::from_secs(60)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // late duplicates are delivered and skipped
    let dup_calls = ollama.chat_calls();
    let dup_audit = Audit::of(&s, &dup_ids).await?;
    checks.expect(dup_final, "duplicated jobs still open");
    checks.expect(
        dup_audit.ran_twice == 0,
        format!("{} duplicated jobs ran twice", dup_audit.ran_twice),
    );
    checks.expect(dup_calls == 100, format!("{dup_calls} LLM calls for 100 one-call jobs"));

    // Cancels at random moments while 200 jobs go through.
    ollama.set_chat_delay(Duration::from_millis(60));
    let ids = s.submit_many(200, journal).await?;
    let cancels = futures::future::join_all(ids.iter().map(|id| {
        let wait = rand::rng().random_range(0..2000);
        let s = &s;
        async move {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            s.cancel(*id).await
        }
    }))
    .await;
    let codes: Vec<u16> = cancels.into_iter().collect::<Result<_, _>>()?;
    let all_final = s.wait_final(&ids, Duration::from_secs(60)).await?;
    let inconsistent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE id = ANY($1) AND ((status = 'cancelled') = (result IS NOT NULL))",
    )
    .bind(&ids)
    .fetch_one(&s.pool)
    .await?;
    let audit = Audit::of(&s, &ids).await?;
    checks.expect(all_final, "jobs still open");
    checks.expect(
        inconsistent == 0,
        format!("{inconsistent} jobs with a result that does not match their status"),
    );
    checks.expect(
        audit.count("succeeded") + audit.count("cancelled") == ids.len(),
        "a job neither succeeded nor cancelled",
    );
    checks.expect(s.workers_alive() == 3, "a worker exited");
    let refused = codes.iter().filter(|c| **c == 409).count();
    let at_once = codes.iter().filter(|c| **c == 200).count();
    let requested = codes.iter().filter(|c| **c == 202).count();
    checks.expect(
        refused + at_once + requested == codes.len(),
        format!("unexpected cancel answers: {codes:?}"),
    );
    let mut all = dup_ids.clone();
    all.extend(&ids);
    let total = Audit::of(&s, &all).await?;
    total.check(&mut checks);
    let figures = format!(
        "duplicated_jobs=100 extra_messages=200 llm_calls={dup_calls} cancels_queued={at_once} cancels_running={requested} cancels_too_late={refused}",
    );
    s.stop().await;
    Ok(Report::new("races", &total, checks, figures))
}
