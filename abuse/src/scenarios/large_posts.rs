//! Row 10: 1 MB POSTs. Before: each cost ~0.5 s of CPU on the async runtime, and `/health`
//! went from 1-4 ms to ~330 ms while 4 were in flight.

use std::time::{Duration, Instant};

use testkit::procs::Env;

use super::{inline_training, stack};
use crate::{
    probe::{Latencies, sample_latency},
    report::Report,
};

const POSTERS: u64 = 4;
const FOR: Duration = Duration::from_secs(6);

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("large_posts", "4 parallel 1 MB POSTs vs /health");
    let s = stack(env, "large_posts", &[]).await?;
    let body = serde_json::to_vec(&inline_training(7_500, 1))?;
    let http = s.http_builder().build()?;
    let idle =
        sample_latency(&http, &format!("{}/health", s.api_url), 50, Duration::from_millis(10))
            .await;
    let deadline = Instant::now() + FOR;
    let posters: Vec<_> = (0..POSTERS)
        .map(|_| {
            let (http, url, body) = (http.clone(), format!("{}/jobs", s.api_url), body.clone());
            tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let mut failed = 0;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 202 => latencies.record(started.elapsed()),
                        _ => failed += 1,
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy =
        sample_latency(&http, &format!("{}/health", s.api_url), 200, Duration::from_millis(20))
            .await;
    let mut posts = Latencies::default();
    let mut failed = 0;
    for poster in posters {
        let (latencies, f) = poster.await?;
        failed += f;
        posts.extend(latencies);
    }
    report.figure(format!(
        "body {:.2} MB; {} POSTs ({failed} failed), {}",
        body.len() as f64 / 1e6,
        posts.len(),
        posts.summary()
    ));
    report.figure(format!("/health idle {}", idle.summary()));
    report.figure(format!("/health during {}", busy.summary()));
    report.check(failed == 0, format!("{failed} large POSTs failed"));
    report.check(
        busy.quantile(0.5) < 10.0,
        format!("/health p50 {:.1} ms while posting", busy.quantile(0.5)),
    );
    report.check(
        busy.quantile(0.99) < 100.0,
        format!("/health p99 {:.1} ms while posting", busy.quantile(0.99)),
    );
    s.stop().await;
    Ok(report)
}
