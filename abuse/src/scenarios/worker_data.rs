//! Row 6: market-data files. Before: a 2 GB sparse CSV was read whole, in a thread neither
//! cancel nor timeout stopped: worker RSS 15 GB after 4 min 45 s and growing.

use std::{
    io::Write,
    time::{Duration, Instant},
};

use serde_json::json;
use testkit::procs::Env;

use super::{stack, wait_job};
use crate::{
    probe::{RssPeak, mb},
    report::Report,
};

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("worker_data", "a 2 GB CSV; cancel during a large read");
    let mut s = stack(env, "worker_data", &[]).await?;
    s.ollama().set_chat_delay(Duration::from_millis(500));
    let index = s.start_worker().await?;
    let rss = RssPeak::start(s.workers[index].pid());

    std::fs::File::create(s.dir.join("data/BIG.csv"))?.set_len(2 << 30)?;
    let big = json!({"kind": "analysis", "input": {"task": "market", "symbol": "BIG", "date": "2010-06-01"}});
    let started = Instant::now();
    let id = s.submit(&big).await?;
    let job = wait_job(&s, id, Duration::from_secs(60)).await?;
    let failed_in = started.elapsed();
    let error = job["error"].as_str().unwrap_or("");
    report.figure(format!(
        "2 GB CSV: {} in {:.2} s after {} attempt(s)",
        job["status"].as_str().unwrap_or("?"),
        failed_in.as_secs_f64(),
        job["attempts"]
    ));
    report.check(job["status"] == "failed" && job["attempts"] == 1, format!("2 GB job: {job}"));
    report.check(failed_in < Duration::from_secs(5), format!("took {failed_in:?}"));
    report.check(error.contains("MAX_DATA_BYTES"), format!("error: {error}"));

    // A large file within the limits (500 000 bars, ~27 MB), cancelled as soon as it runs.
    write_bars(&s.dir.join("data/LARGE.csv"), 500_000)?;
    let body = json!({"kind": "analysis", "input": {"task": "market", "symbol": "LARGE",
        "date": chrono::Utc::now().date_naive().to_string()}});
    let id = s.submit(&body).await?;
    while s.final_count(&[id]).await == 0 {
        let running: Option<String> = sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&s.pool)
            .await?;
        if running.as_deref() == Some("running") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancel_at = Instant::now();
    let status = s.cancel(id).await?;
    let job = wait_job(&s, id, Duration::from_secs(30)).await?;
    let stopped_in = cancel_at.elapsed();
    let peak = rss.peak();
    report.figure(format!(
        "500 000-bar CSV cancelled while running: {status} then {} in {:.2} s; worker peak RSS {:.0} MB",
        job["status"].as_str().unwrap_or("?"),
        stopped_in.as_secs_f64(),
        mb(peak)
    ));
    report.check(job["status"] == "cancelled", format!("large job: {job}"));
    report.check(stopped_in < Duration::from_secs(3), format!("stopped after {stopped_in:?}"));
    report.check(mb(peak) < 200.0, format!("worker peak RSS {:.0} MB", mb(peak)));
    s.stop().await;
    Ok(report)
}

fn write_bars(path: &std::path::Path, n: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "timestamp,Open,High,Low,Close,Volume")?;
    let start = chrono::NaiveDate::from_ymd_opt(1900, 1, 1)
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("a time");
    for i in 0..n {
        let time = start + chrono::Duration::hours(i as i64);
        let close = 100.0 + (i as f64 * 0.01).sin();
        writeln!(
            out,
            "{},{close:.4},{:.4},{:.4},{close:.4},{}",
            time.format("%Y-%m-%d %H:%M:%S"),
            close + 0.5,
            close - 0.5,
            1000 + i % 7
        )?;
    }
    out.flush()
}
