//! `bench`: the load generator behind scripts/bench.sh. It talks to running `api` and `worker`
//! binaries over HTTP (and reads Postgres for counts and timestamps); starting and stopping
//! them is the script's job. Every figure is printed for people and as `RESULT key=value`.
//!
//! It runs on one thread: on a small machine the generator should take as little CPU from the
//! system under test as it can.

mod drain;
mod http;
mod pickup;
mod post;
mod stats;

use std::{path::PathBuf, time::Duration};

use clap::{Parser, Subcommand};
use sqlx::{PgPool, postgres::PgPoolOptions};

#[derive(Parser)]
#[command(
    version,
    about = "Load generator for the Tradeforge API and worker (see scripts/bench.sh)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// POST /jobs throughput and latency at N connections.
    Post {
        #[arg(long)]
        api: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Unmeasured seconds first (connections, caches, pool warm up).
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// When given, checks that every accepted job is a row in Postgres.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Submits exactly N journal jobs (to pre-load a backlog).
    Submit {
        #[arg(long)]
        api: String,
        #[arg(long, default_value_t = 5000)]
        count: usize,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Waits until N jobs are final in Postgres; reports the drain rate.
    Drain {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 5000)]
        count: i64,
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// When given, counts the job directories holding result.json and report.md.
        #[arg(long)]
        results_dir: Option<PathBuf>,
    },
    /// Idle pick-up: one job at a time, submit → running and submit → succeeded.
    Pickup {
        #[arg(long)]
        api: String,
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Poll interval of GET /jobs/{id}, in milliseconds.
        #[arg(long, default_value_t = 1)]
        poll_ms: u64,
        /// Smallest and largest random pause before each submission, in milliseconds.
        #[arg(long, num_args = 2, default_values_t = [20, 60])]
        gap_ms: Vec<u64>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let result = run(Cli::parse().command).await;
    if let Some(cpu) = own_cpu_seconds() {
        println!("load generator CPU: {cpu:.2} core-s");
        stats::result("bench_cpu_s", format!("{cpu:.2}"));
    }
    result
}

/// User + system CPU this process used so far (Linux; clock ticks of 1/100 s).
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Post { api, connections, duration, warmup, database_url } => {
            post::load(post::LoadArgs {
                addr: http::parse_api(&api)?,
                connections,
                warmup: Duration::from_secs(warmup),
                duration: Duration::from_secs(duration),
                database_url,
            })
            .await
        }
        Command::Submit { api, count, connections } => {
            post::submit(http::parse_api(&api)?, connections, count).await
        }
        Command::Drain { database_url, count, timeout, results_dir } => {
            drain::drain(drain::DrainArgs {
                database_url,
                count,
                timeout: Duration::from_secs(timeout),
                results_dir,
            })
            .await
        }
        Command::Pickup { api, samples, poll_ms, gap_ms } => {
            pickup::pickup(pickup::PickupArgs {
                addr: http::parse_api(&api)?,
                samples,
                poll: Duration::from_millis(poll_ms),
                gap: (Duration::from_millis(gap_ms[0]), Duration::from_millis(gap_ms[1])),
                timeout: Duration::from_secs(10),
            })
            .await
        }
    }
}

/// One connection is all the bench needs (it polls, it does not load Postgres).
pub(crate) async fn db(url: &str) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    Ok(pool)
}
