//! Idle pick-up: one job at a time into an idle system. For each, the client notes the wall
//! clock, submits, then polls `GET /jobs/{id}` every millisecond until it has succeeded.
//! submit → running uses the job's `started_at` (set by the claim; a job with an instant LLM is
//! running for too short a time to be seen reliably by polling), submit → succeeded is what the
//! poller saw; server and client share the machine's clock.

use std::{
    net::SocketAddr,
    time::{Duration, Instant, SystemTime},
};

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use hyper::StatusCode;
use serde_json::Value;

use crate::{http::Conn, post::JOURNAL_JOB, stats::Summary};

pub struct PickupArgs {
    pub addr: SocketAddr,
    pub samples: usize,
    pub poll: Duration,
    /// Random pause before each submission, so submissions do not line up with timers.
    pub gap: (Duration, Duration),
    pub timeout: Duration,
}

pub async fn pickup(args: PickupArgs) -> anyhow::Result<()> {
    let mut conn = Conn::new(args.addr);
    let body = Bytes::from_static(JOURNAL_JOB.as_bytes());
    let (mut accepted, mut running, mut finished, mut observed) = (vec![], vec![], vec![], vec![]);
    for _ in 0..args.samples {
        let gap = rand::random_range(args.gap.0..=args.gap.1);
        tokio::time::sleep(gap).await;
        let t0_wall: DateTime<Utc> = SystemTime::now().into();
        let t0 = Instant::now();
        let (status, reply) = conn.post_json("/jobs", body.clone()).await?;
        anyhow::ensure!(status == StatusCode::ACCEPTED, "submit answered {status}");
        accepted.push(t0.elapsed());
        let job: Value = serde_json::from_slice(&reply)?;
        let id = job["id"].as_str().context("job without id")?.to_owned();
        let path = format!("/jobs/{id}");
        let job = loop {
            let (status, reply) = conn.get(&path).await?;
            anyhow::ensure!(status == StatusCode::OK, "GET {path} answered {status}");
            let job: Value = serde_json::from_slice(&reply)?;
            match job["status"].as_str() {
                Some("succeeded") => break job,
                Some("failed" | "cancelled") => anyhow::bail!("job {id} ended {}", job["status"]),
                _ if t0.elapsed() > args.timeout => {
                    anyhow::bail!("job {id} not done after {:?}: {job}", args.timeout)
                }
                _ => tokio::time::sleep(args.poll).await,
            }
        };
        observed.push(t0.elapsed());
        let at = |field: &str| -> anyhow::Result<Duration> {
            let ts = job[field].as_str().with_context(|| format!("job without {field}"))?;
            let ts = DateTime::parse_from_rfc3339(ts)?.with_timezone(&Utc);
            Ok((ts - t0_wall).to_std().unwrap_or_default())
        };
        running.push(at("started_at")?);
        finished.push(at("finished_at")?);
    }
    println!(
        "pick-up: {} jobs one at a time, {:?}..{:?} apart, polled every {:?}",
        args.samples, args.gap.0, args.gap.1, args.poll
    );
    Summary::new(accepted).report("pickup_accepted", "submit → 202");
    Summary::new(running).report("pickup_running", "submit → running (started_at)");
    Summary::new(finished).report("pickup_finished", "submit → finished_at");
    Summary::new(observed).report("pickup_succeeded", "submit → seen succeeded");
    Ok(())
}
