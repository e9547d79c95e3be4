//! Drain: with a backlog already queued, poll Postgres until every job is final, then compute
//! the processing rate from the jobs' own timestamps (first `started_at` to last `finished_at`)
//! and the wall time from this command's start (launched right after the worker).

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::stats::result;

pub struct DrainArgs {
    pub database_url: String,
    pub count: i64,
    pub timeout: Duration,
    pub results_dir: Option<PathBuf>,
}

pub async fn drain(args: DrainArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let pool = crate::db(&args.database_url).await?;
    let mut last_print = Instant::now();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&pool)
        .await
        .context("counting jobs")?;
    if total < args.count {
        anyhow::bail!("only {total} jobs in the database, expected {}", args.count);
    }
    loop {
        // Only the unfinished jobs are counted (an index scan that shrinks as the drain goes):
        // often enough to see the end, cheap enough not to load Postgres. The rate itself
        // comes from the jobs' timestamps, not from this loop.
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
                .fetch_one(&pool)
                .await
                .context("polling job counts")?;
        if left == 0 {
            break;
        }
        if started.elapsed() > args.timeout {
            anyhow::bail!("drain not finished after {:?}: {left} jobs left", args.timeout);
        }
        if last_print.elapsed() > Duration::from_secs(2) {
            println!("  ... {left} jobs left after {:.1} s", started.elapsed().as_secs_f64());
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wall = started.elapsed();
    let (succeeded, failed, first_start, last_finish): (
        i64,
        i64,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    ) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status <> 'succeeded'),
                min(started_at), max(finished_at) FROM jobs",
    )
            .fetch_one(&pool)
            .await
            .context("reading job timestamps")?;
    pool.close().await;
    let span = match (first_start, last_finish) {
        (Some(a), Some(b)) => (b - a).to_std().unwrap_or_default(),
        _ => wall,
    };
    let rate = args.count as f64 / span.as_secs_f64();
    println!(
        "drained {} jobs ({succeeded} succeeded, {failed} failed): first start → last finish {:.3} s = {rate:.0} jobs/s; \
         worker launch → all final (polled) {:.3} s = {:.0} jobs/s",
        args.count,
        span.as_secs_f64(),
        wall.as_secs_f64(),
        args.count as f64 / wall.as_secs_f64()
    );
    result("drain_rate", format!("{rate:.0}"));
    result("drain_wall_rate", format!("{:.0}", args.count as f64 / wall.as_secs_f64()));
    result("drain_failed", failed);
    if let Some(dir) = &args.results_dir {
        let with_result = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(Result::ok)
            .filter(|e| {
                e.path().join("result.json").is_file() && e.path().join("report.md").is_file()
            })
            .count();
        println!("result files: {with_result} job directories hold result.json and report.md");
        result("drain_files", with_result);
    }
    Ok(())
}
