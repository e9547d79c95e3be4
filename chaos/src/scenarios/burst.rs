//! Fault 7: a burst of 20 000 submissions while every worker is down, then three workers start.
//! Redis holds at most QUEUE_MAX_BACKLOG messages (the rest wait in Postgres), so its memory
//! stays bounded however large the burst; acknowledged apalis keys are cleaned up afterwards.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::{Opts, journal};
use crate::{
    audit::{Audit, Checks},
    report::Report,
};
use testkit::procs::{Env, Stack};

const JOBS: usize = 20_000;
/// Redis' growth allowed over its idle size: 2 000 waiting messages and their bookkeeping.
const MEMORY_BOUND_MB: f64 = 32.0;

pub async fn run(env: &mut Env, _opts: &Opts) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "burst").await?;
    let mut checks = Checks::default();
    let idle = s.env.redis.used_memory().await?;
    let peak = Arc::new(AtomicU64::new(idle));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (url, peak, sampling) = (s.env.redis.url(), peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Ok(used) = testkit::procs::servers::used_memory(&url).await {
                    peak.fetch_max(used, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    let ids = s.submit_many(JOBS, journal).await?;
    let submit_s = started.elapsed().as_secs_f64();
    let in_redis = s.redis_keys_of_scenario().await?;
    let drain = Instant::now();
    s.start_workers(3).await?;
    let all_final = s.wait_final(&ids, Duration::from_secs(600)).await?;
    let drain_s = drain.elapsed().as_secs_f64();
    // The janitor deletes acknowledged task keys on its next sweeps.
    let mut keys_left = s.redis_keys_of_scenario().await?;
    let cleaning = Instant::now();
    while keys_left > 50 && cleaning.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        keys_left = s.redis_keys_of_scenario().await?;
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    let growth_mb = (peak.load(Ordering::Relaxed).saturating_sub(idle)) as f64 / 1e6;
    checks.expect(all_final, "jobs still open ten minutes after the workers started");
    checks.expect(
        growth_mb <= MEMORY_BOUND_MB,
        format!("Redis grew by {growth_mb:.1} MB (bound {MEMORY_BOUND_MB} MB)"),
    );
    checks.expect(
        keys_left <= 50,
        format!("{keys_left} keys of the scenario left in Redis 30 s after the drain"),
    );
    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    checks.expect(
        audit.count("succeeded") == JOBS,
        format!("{} of {JOBS} succeeded", audit.count("succeeded")),
    );
    let figures = format!(
        "submit_s={submit_s:.1} ({:.0}/s) keys_in_redis_after_burst={in_redis} drain_s={drain_s:.1} redis_peak_growth_mb={growth_mb:.1} keys_left={keys_left}",
        JOBS as f64 / submit_s
    );
    s.stop().await;
    Ok(Report::new("burst", &audit, checks, figures))
}
