//! Row 7: training with no compute budget. Before: a request of ~56 h was accepted, and its
//! timeout retried, holding the only training slot for hours.

use std::time::{Duration, Instant};

use serde_json::json;
use testkit::procs::Env;

use super::{stack, wait_job};
use crate::report::Report;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("training", "no compute budget; timeouts retried");
    let mut s = stack(env, "training", &[]).await?;
    let hostile = json!({"kind": "training", "input": {"symbol": "SYNTH", "model": "nhits",
        "horizon": 720, "input_size": 5000, "mlp_width": 2048, "windows_batch_size": 4096,
        "max_steps": 10000}});
    let started = Instant::now();
    let (status, answer) = s.post(&hostile).await?;
    let took = started.elapsed();
    let detail = answer["body"]["detail"].as_str().unwrap_or("").to_owned();
    report.figure(format!("the ~56 h request: {status} in {:.0} ms", took.as_secs_f64() * 1000.0));
    report.check(status == 422, format!("the over-budget request got {status}"));
    report.check(
        detail.contains("max_steps to at most"),
        format!("no advice on what to lower: {detail}"),
    );

    // Within the budget but slower than TRAINING_TIMEOUT_S: stopped once, not retried, and the
    // slot is free for the next job at once.
    s.worker_env.insert("WORKER_QUEUES".into(), "training".into());
    s.worker_env.insert("TRAINING_TIMEOUT_S".into(), "2".into());
    s.start_worker().await?;
    let slow = json!({"kind": "training", "input": {"symbol": "SYNTH", "model": "nhits", "horizon": 5,
        "max_steps": 10000, "mlp_width": 256}});
    let quick = json!({"kind": "training", "input": {"symbol": "SYNTH", "model": "nhits", "horizon": 5,
        "input_size": 20, "max_steps": 5, "mlp_width": 16, "windows_batch_size": 32}});
    let started = Instant::now();
    let slow_id = s.submit(&slow).await?;
    let quick_id = s.submit(&quick).await?;
    let slow_job = wait_job(&s, slow_id, Duration::from_secs(60)).await?;
    let slow_done = started.elapsed();
    let quick_job = wait_job(&s, quick_id, Duration::from_secs(60)).await?;
    let error = slow_job["error"].as_str().unwrap_or("");
    report.figure(format!(
        "a 2 s-timeout training: {} after {} attempt(s) in {:.1} s; the next job {} {:.1} s later",
        slow_job["status"].as_str().unwrap_or("?"),
        slow_job["attempts"],
        slow_done.as_secs_f64(),
        quick_job["status"].as_str().unwrap_or("?"),
        (started.elapsed() - slow_done).as_secs_f64()
    ));
    report.check(
        slow_job["status"] == "failed" && slow_job["attempts"] == 1,
        format!("timed-out training: {slow_job}"),
    );
    report.check(
        error.contains("TRAINING_TIMEOUT_S"),
        format!("error does not name the setting: {error}"),
    );
    report.check(quick_job["status"] == "succeeded", format!("the next training: {quick_job}"));
    s.stop().await;
    Ok(report)
}
