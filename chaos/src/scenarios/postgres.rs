//! Fault 4: Postgres restarted (fast shutdown, down five seconds) while jobs run. The API
//! answers 503 problem+json quickly during the outage and recovers without a restart; the
//! workers retry their claims and outcome writes; nothing is lost.

use std::time::{Duration, Instant};

use super::journal;
use super::until_progress;
use crate::{
    audit::{Audit, Checks},
    report::Report,
};
use testkit::procs::{Env, Stack};

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut s = Stack::new(env, "postgres").await?;
    let mut checks = Checks::default();
    s.ollama().set_chat_delay(Duration::from_millis(300));
    s.start_workers(2).await?;
    let mut ids = s.submit_many(60, journal).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    s.env.pg.down()?;
    let down_at = Instant::now();
    // A client every 250 ms, each waiting for its own answer (they overlap: none may hang).
    let mut probes = Vec::new();
    while down_at.elapsed() < Duration::from_secs(5) {
        let api = s.client();
        probes.push(tokio::spawn(async move {
            let asked = Instant::now();
            let posted = api.post(&journal(0)).await;
            let took = asked.elapsed();
            (posted, took, api.ready_status().await)
        }));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (mut answers, mut slowest, mut ready) = (Vec::new(), Duration::ZERO, Vec::new());
    for probe in probes {
        let (posted, took, ready_code) = probe.await?;
        let (code, answer) = posted?;
        answers.push((code, answer["content_type"].as_str().unwrap_or_default().to_owned()));
        slowest = slowest.max(took);
        ready.push(ready_code);
    }
    s.env.pg.up().await?;
    let up_at = Instant::now();
    let recovered = loop {
        let (code, answer) = s.post(&journal(1)).await?;
        if code == 202 {
            ids.push(answer["body"]["id"].as_str().unwrap_or_default().parse()?);
            break up_at.elapsed();
        }
        if up_at.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("the API still answers {code} a minute after Postgres came back");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let workers_resumed = until_progress(&s, &ids, up_at).await;
    let all_final = s.wait_final(&ids, Duration::from_secs(120)).await?;

    let problems =
        answers.iter().all(|(c, t)| *c == 503 && t.starts_with("application/problem+json"));
    checks.expect(problems, format!("answers during the outage: {answers:?}"));
    checks.expect(ready.iter().all(|c| *c == 503), format!("/ready during the outage: {ready:?}"));
    checks.expect(
        slowest < Duration::from_secs(1),
        format!("a POST took {slowest:?} during the outage"),
    );
    checks.expect(all_final, "jobs still open two minutes after Postgres came back");
    checks.expect(s.workers_alive() == 2, "a worker exited");
    let audit = Audit::of(&s, &ids).await?;
    audit.check(&mut checks);
    checks.expect(audit.count("succeeded") == ids.len(), "not every job succeeded");
    let figures = format!(
        "posts_during_outage={} all_503_problem={problems} slowest_post_ms={:.0} api_recovered_s={:.2} workers_resumed_s={:.2}",
        answers.len(),
        slowest.as_secs_f64() * 1000.0,
        recovered.as_secs_f64(),
        workers_resumed.as_secs_f64()
    );
    s.stop().await;
    Ok(Report::new("postgres", &audit, checks, figures)
        .with_recovery(recovered.max(workers_resumed).as_secs_f64()))
}
