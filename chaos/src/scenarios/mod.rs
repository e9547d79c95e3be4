//! The faults of issue 5, one module each.

mod burst;
mod kill;
mod ollama;
mod poison;
mod postgres;
mod races;
mod redis;
mod term;
mod timeout;

use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use serde_json::{Value, json};
use testkit::procs::{Env, Stack};

use crate::report::Report;

pub struct Opts {
    pub long: bool,
}

/// In the order they run: cheap ones first, so a broken build fails fast.
pub const NAMES: &[&str] =
    &["poison", "timeout", "races", "ollama", "term", "postgres", "redis", "burst", "kill"];

pub fn static_name(name: &str) -> &'static str {
    NAMES.iter().find(|n| **n == name).copied().unwrap_or("unknown")
}

pub async fn run(name: &str, env: &mut Env, opts: &Opts) -> anyhow::Result<Report> {
    match name {
        "kill" => kill::run(env, opts).await,
        "term" => term::run(env).await,
        "redis" => redis::run(env).await,
        "postgres" => postgres::run(env).await,
        "ollama" => ollama::run(env, opts).await,
        "poison" => poison::run(env).await,
        "burst" => burst::run(env, opts).await,
        "timeout" => timeout::run(env).await,
        "races" => races::run(env).await,
        other => anyhow::bail!("unknown scenario {other}"),
    }
}

/// Polls until none of `held` is still `running` under `worker` (re-queued, re-claimed
/// elsewhere or final); returns how long that took from `since`.
async fn until_released(pool: PgPool, held: Vec<Uuid>, worker: String, since: Instant) -> Duration {
    loop {
        let stuck: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE id = ANY($1) AND status = 'running' AND worker_id = $2",
        )
        .bind(&held)
        .bind(&worker)
        .fetch_one(&pool)
        .await
        .unwrap_or(i64::MAX);
        if stuck == 0 || since.elapsed() > Duration::from_secs(300) {
            return since.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Jobs `worker` holds right now.
async fn held_by(pool: &PgPool, worker: &str) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'running' AND worker_id = $1")
        .bind(worker)
        .fetch_all(pool)
        .await?)
}

/// After a fault ends at `since`: the time until one more of `ids` finishes than had before
/// (the stack is doing useful work again).
async fn until_progress(s: &Stack<'_>, ids: &[Uuid], since: Instant) -> Duration {
    let before = s.final_count(ids).await;
    while s.final_count(ids).await <= before && since.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    since.elapsed()
}

/// Polls `done` every 20 ms until it holds or `limit` passes; whether it held.
async fn until(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

pub(crate) fn journal(i: usize) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": format!("Entry {i}: moved my stop after a loss."), "context": "chaos"}})
}

/// A market analysis on the synthetic series (four LLM calls: more steps to be killed in).
pub(crate) fn market(i: usize) -> Value {
    let day = 1 + i % 28;
    json!({"kind": "analysis", "input": {"task": "market", "symbol": "SYNTH", "date": format!("2010-06-{day:02}")}})
}
