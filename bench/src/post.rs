//! `POST /jobs` load: N clients, each on its own keep-alive connection, submitting back to back
//! (closed loop), every request's latency recorded. Also used to pre-load a fixed number of jobs.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use hyper::StatusCode;
use tokio::task::JoinSet;

use crate::{
    http::Conn,
    stats::{Summary, result},
};

/// A journal review: the job the drain and pick-up figures are about, and a realistic body.
pub const JOURNAL_JOB: &str = r#"{"kind":"analysis","input":{"task":"journal","text":"I overtraded today and broke my rules after a loss.","context":"gold scalping challenge"}}"#;

/// When the clients stop.
#[derive(Clone)]
enum Stop {
    At(Instant),
    AfterJobs(Arc<AtomicUsize>),
}

#[derive(Default)]
struct ClientStats {
    accepted: u64,
    rejected: u64,
    errors: u64,
    /// Requests started in the measured window (after the warm-up).
    window_latencies: Vec<Duration>,
    window_accepted: u64,
    window_other: u64,
    last_done: Option<Instant>,
    first_problem: Option<String>,
}

async fn client(addr: SocketAddr, body: Bytes, measure_from: Instant, stop: Stop) -> ClientStats {
    let mut conn = Conn::new(addr);
    let mut stats = ClientStats::default();
    loop {
        let more = match &stop {
            Stop::At(end) => Instant::now() < *end,
            Stop::AfterJobs(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        };
        if !more {
            break;
        }
        let started = Instant::now();
        let answer = conn.post_json("/jobs", body.clone()).await;
        let done = Instant::now();
        let in_window = started >= measure_from;
        match answer {
            Ok((StatusCode::ACCEPTED, _)) => {
                stats.accepted += 1;
                if in_window {
                    stats.window_accepted += 1;
                }
            }
            Ok((status, body)) => {
                stats.rejected += 1;
                if in_window {
                    stats.window_other += 1;
                }
                stats.first_problem.get_or_insert_with(|| {
                    format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]))
                });
            }
            Err(e) => {
                stats.errors += 1;
                if in_window {
                    stats.window_other += 1;
                }
                stats.first_problem.get_or_insert_with(|| format!("{e:#}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        if in_window {
            stats.window_latencies.push(done - started);
            stats.last_done = Some(done);
        }
    }
    stats
}

async fn run_clients(
    addr: SocketAddr,
    connections: usize,
    measure_from: Instant,
    stop: Stop,
) -> ClientStats {
    let body = Bytes::from_static(JOURNAL_JOB.as_bytes());
    let mut clients = JoinSet::new();
    for _ in 0..connections {
        clients.spawn(client(addr, body.clone(), measure_from, stop.clone()));
    }
    let mut all = ClientStats::default();
    while let Some(stats) = clients.join_next().await {
        let stats = stats.expect("a client task panicked");
        all.accepted += stats.accepted;
        all.rejected += stats.rejected;
        all.errors += stats.errors;
        all.window_accepted += stats.window_accepted;
        all.window_other += stats.window_other;
        all.window_latencies.extend(stats.window_latencies);
        all.last_done = all.last_done.max(stats.last_done);
        if all.first_problem.is_none() {
            all.first_problem = stats.first_problem;
        }
    }
    all
}

pub struct LoadArgs {
    pub addr: SocketAddr,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub database_url: Option<String>,
}

/// Throughput and latency at `connections` concurrent clients for `duration` after `warmup`.
pub async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    println!(
        "POST /jobs: {} connections, {:?} warm-up, {:?} measured",
        args.connections, args.warmup, args.duration
    );
    let stats = run_clients(args.addr, args.connections, measure_from, Stop::At(end)).await;
    let window = stats.last_done.map_or(args.duration, |last| last - measure_from);
    let rate = stats.window_accepted as f64 / window.as_secs_f64();
    println!(
        "accepted {} in {:.2} s = {:.0} jobs/s; non-202 answers {}, connection errors {} (whole run incl. warm-up: {} accepted)",
        stats.window_accepted,
        window.as_secs_f64(),
        rate,
        stats.rejected,
        stats.errors,
        stats.accepted
    );
    if let Some(problem) = &stats.first_problem {
        println!("first problem: {problem}");
    }
    result("post_rate", format!("{rate:.0}"));
    result("post_non202", stats.rejected + stats.errors);
    Summary::new(stats.window_latencies).report("post", "POST /jobs latency");
    if let Some(url) = &args.database_url {
        let rows = count_jobs(url).await?;
        let durable = rows == stats.accepted as i64;
        println!(
            "durability: {} accepted (202) jobs, {rows} rows in Postgres: {}",
            stats.accepted,
            if durable { "all present" } else { "MISMATCH" }
        );
        result("post_durable", if durable { "yes" } else { "NO" });
    }
    Ok(())
}

/// Submits exactly `count` jobs over `connections` clients; fails unless every one is accepted.
pub async fn submit(addr: SocketAddr, connections: usize, count: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let left = Arc::new(AtomicUsize::new(count));
    let stats = run_clients(addr, connections, started, Stop::AfterJobs(left)).await;
    let took = started.elapsed();
    println!(
        "submitted {count} jobs in {:.2} s ({:.0}/s): {} accepted",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64(),
        stats.accepted
    );
    if stats.accepted != count as u64 {
        anyhow::bail!(
            "only {} of {count} jobs accepted; first problem: {}",
            stats.accepted,
            stats.first_problem.unwrap_or_default()
        );
    }
    Ok(())
}

async fn count_jobs(url: &str) -> anyhow::Result<i64> {
    let pool = crate::db(url).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&pool)
        .await
        .context("counting jobs")?;
    pool.close().await;
    Ok(n)
}
