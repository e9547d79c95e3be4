//! Fault 1: a random worker SIGKILLed every few seconds while jobs run on three; each killed
//! worker comes back a second later as a new process (compose's restart policy). Recovery time
//! of a kill: until none of the jobs it held is still `running` under its name.

use std::time::{Duration, Instant};

use rand::Rng;

use super::{Opts, held_by, journal, market, until_released};
use crate::{
    audit::{Audit, Checks},
    report::Report,
};
use testkit::procs::{Env, Stack};

pub async fn run(env: &mut Env, opts: &Opts) -> anyhow::Result<Report> {
    let jobs = if opts.long { 1000 } else { 300 };
    let mut s = Stack::new(env, "kill").await?;
    s.ollama().set_chat_delay(Duration::from_millis(200));
    s.start_workers(3).await?;
    let ids = s.submit_many(jobs, |i| if i % 2 == 0 { market(i) } else { journal(i) }).await?;
    let started = Instant::now();
    let mut recoveries = Vec::new();
    let mut kills = 0;
    let mut held_total = 0;
    let mut live: Vec<usize> = (0..3).collect();
    loop {
        let pause = rand::rng().random_range(2000..5000);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if s.wait_final(&ids, Duration::ZERO).await? || started.elapsed() > Duration::from_secs(600)
        {
            break;
        }
        let slot = rand::rng().random_range(0..live.len());
        let name = s.kill_worker(live[slot])?;
        let at = Instant::now();
        kills += 1;
        let held = held_by(&s.pool, &name).await?;
        held_total += held.len();
        eprintln!("    killed {name} holding {} jobs", held.len());
        recoveries.push(tokio::spawn(until_released(s.pool.clone(), held, name, at)));
        tokio::time::sleep(Duration::from_secs(1)).await;
        live[slot] = s.start_worker().await?;
    }
    let all_final = s.wait_final(&ids, Duration::from_secs(120)).await?;
    let mut max_recovery = 0.0_f64;
    for r in recoveries {
        max_recovery = max_recovery.max(r.await?.as_secs_f64());
    }
    let audit = Audit::of(&s, &ids).await?;
    let mut checks = Checks::default();
    audit.check(&mut checks);
    checks.expect(all_final, "jobs still open two minutes after the last kill");
    checks.expect(
        audit.count("succeeded") == jobs,
        format!("{} of {jobs} succeeded", audit.count("succeeded")),
    );
    checks.expect(held_total > 0, "no kill hit a worker that held a job");
    checks.expect(
        kills >= 2,
        format!("only {kills} kills: the jobs finished too fast to test anything"),
    );
    checks.expect(max_recovery <= 35.0, format!("recovery took {max_recovery:.1} s (target 35 s)"));
    let figures = format!("kills={kills} held_at_kill={held_total}");
    s.stop().await;
    Ok(Report::new("kill", &audit, checks, figures).with_recovery(max_recovery))
}
