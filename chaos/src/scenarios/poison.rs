//! Fault 6: poison in Redis: messages that do not decode and well-formed messages for job ids
//! Postgres has never seen. Each is logged and acknowledged once; the worker never restarts
//! its consumers over them and keeps working.

use std::time::Duration;

use shared::{job::JobKind, queue::Producer};
use uuid::Uuid;

use testkit::procs::{Env, Stack};

use super::journal;
use crate::{
    audit::{Audit, Checks},
    report::Report,
};

const POISON: usize = 10;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "poison").await?;
    let mut checks = Checks::default();
    let conn = shared::queue::connect(&s.env.redis.url()).await?;
    let producer = Producer::new(conn, &s.prefix);
    let config = producer.config(JobKind::Analysis).clone();
    let mut raw = producer.connection();
    let garbage: Vec<_> = (0..POISON)
        .map(|i| {
            apalis_core::task::builder::TaskBuilder::new(format!("\u{0}not json {i}").into_bytes())
                .build()
        })
        .collect();
    apalis_redis::queries::push_tasks(&mut raw, &config, &garbage).await?;
    let strangers: Vec<(Uuid, String)> =
        (0..POISON).map(|_| (Uuid::now_v7(), Producer::new_task_id())).collect();
    producer.push(JobKind::Analysis, &strangers).await?;
    let ids = s.submit_many(20, journal).await?;
    s.start_worker().await?;
    let all_final = s.wait_final(&ids, Duration::from_secs(60)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // the poison may trail the real jobs
    let poison = s.worker_metric(0, "tradeforge_poison_messages_total").await;
    let skipped = s.worker_metric(0, "tradeforge_deliveries_skipped_total").await;
    let restarts = s.worker_metric(0, "tradeforge_consumer_restarts_total").await;
    let backlog = producer.backlog(JobKind::Analysis).await?;
    checks.expect(all_final, "jobs still open");
    checks.expect(
        poison == POISON as f64,
        format!("{poison} undecodable messages acknowledged, not {POISON}"),
    );
    checks.expect(skipped == POISON as f64, format!("{skipped} unknown ids skipped, not {POISON}"));
    checks.expect(restarts == 0.0, format!("consumers restarted {restarts} times"));
    checks.expect(backlog == 0, format!("{backlog} messages left in the queue"));
    checks.expect(s.workers_alive() == 1, "the worker exited");
    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    checks.expect(audit.count("succeeded") == ids.len(), "not every job succeeded");
    let figures = format!(
        "undecodable={poison} unknown_ids={skipped} consumer_restarts={restarts} queue_left={backlog}"
    );
    s.stop().await;
    Ok(Report::new("poison", &audit, checks, figures))
}
