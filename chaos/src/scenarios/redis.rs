//! Fault 3: Redis restarted (data kept) and, later, restarted empty, while jobs are queued and
//! running. The API keeps answering 202 while Redis is down (the jobs wait in Postgres); the
//! workers reconnect by themselves; the sweeper re-pushes what Redis lost.

use std::time::{Duration, Instant};

use super::journal;
use super::until_progress;
use crate::{
    audit::{Audit, Checks},
    report::Report,
};
use testkit::procs::{Env, Stack};

/// Keeps Redis down for `down`, submitting jobs meanwhile; returns their ids and the answers.
async fn outage(
    s: &mut Stack<'_>,
    keep_data: bool,
    down: Duration,
) -> anyhow::Result<(Vec<uuid::Uuid>, Vec<u16>, Duration)> {
    s.env.redis.down(keep_data).await?;
    let until = Instant::now() + down;
    let (mut ids, mut codes) = (Vec::new(), Vec::new());
    let mut slowest = Duration::ZERO;
    let mut i = 10_000;
    while Instant::now() < until {
        let asked = Instant::now();
        let (code, answer) = s.post(&journal(i)).await?;
        slowest = slowest.max(asked.elapsed());
        codes.push(code);
        if let Some(id) = answer["body"]["id"].as_str() {
            ids.push(id.parse()?);
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.env.redis.up().await?;
    Ok((ids, codes, slowest))
}

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "redis").await?;
    let mut checks = Checks::default();
    s.ollama().set_chat_delay(Duration::from_millis(300));
    s.start_workers(2).await?;
    let mut ids = s.submit_many(80, journal).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (more, codes, slowest_post) = outage(&mut s, true, Duration::from_secs(3)).await?;
    ids.extend(more);
    let after_restart = until_progress(&s, &ids, Instant::now()).await;
    checks.expect(
        codes.iter().all(|c| *c == 202),
        format!("POST while Redis was down answered {codes:?}"),
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    let (more, codes_wipe, slowest_wipe) = outage(&mut s, false, Duration::from_secs(2)).await?;
    ids.extend(more);
    let after_wipe = until_progress(&s, &ids, Instant::now()).await;
    checks.expect(
        codes_wipe.iter().all(|c| *c == 202),
        format!("POST while Redis was down answered {codes_wipe:?}"),
    );

    let wipe_done = Instant::now();
    let all_final = s.wait_final(&ids, Duration::from_secs(120)).await?;
    let drained = wipe_done.elapsed();
    checks.expect(all_final, "jobs still open two minutes after Redis came back empty");
    checks.expect(s.workers_alive() == 2, "a worker exited");
    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    checks.expect(audit.count("succeeded") == ids.len(), "not every job succeeded");
    let recovery = after_restart.max(after_wipe).as_secs_f64();
    let figures = format!(
        "posts_while_down={} all_202={} slowest_post_ms={:.0} progress_after_restart_s={:.1} progress_after_wipe_s={:.1} drained_after_wipe_s={:.1}",
        codes.len() + codes_wipe.len(),
        codes.iter().chain(&codes_wipe).all(|c| *c == 202),
        slowest_post.max(slowest_wipe).as_secs_f64() * 1000.0,
        after_restart.as_secs_f64(),
        after_wipe.as_secs_f64(),
        drained.as_secs_f64()
    );
    s.stop().await;
    Ok(Report::new("redis", &audit, checks, figures).with_recovery(recovery))
}
