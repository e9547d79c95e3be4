//! The rows of issue 9's table, one module each (the OpenAPI row is scripts/schemathesis.sh).

mod downloads;
mod large_posts;
mod lists;
mod metrics;
mod model_output;
mod nul;
mod secrets;
mod slow_clients;
mod streams;
mod training;
mod worker_data;

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use serde_json::{Value, json};
use testkit::procs::{Env, Stack};
use tokio::{io::AsyncReadExt, net::TcpStream};
use uuid::Uuid;

use crate::report::Report;

/// Cheap ones first, so a broken build fails fast.
pub const NAMES: &[&str] = &[
    "nul",
    "training",
    "secrets",
    "model_output",
    "metrics",
    "large_posts",
    "lists",
    "worker_data",
    "slow_clients",
    "downloads",
    "streams",
];

pub fn static_name(name: &str) -> &'static str {
    NAMES.iter().find(|n| **n == name).copied().unwrap_or("unknown")
}

pub async fn run(name: &str, env: &mut Env) -> anyhow::Result<Report> {
    match name {
        "nul" => nul::run(env).await,
        "training" => training::run(env).await,
        "secrets" => secrets::run(env).await,
        "model_output" => model_output::run(env).await,
        "metrics" => metrics::run(env).await,
        "large_posts" => large_posts::run(env).await,
        "lists" => lists::run(env).await,
        "worker_data" => worker_data::run(env).await,
        "slow_clients" => slow_clients::run(env).await,
        "downloads" => downloads::run(env).await,
        "streams" => streams::run(env).await,
        other => anyhow::bail!("unknown scenario {other}"),
    }
}

/// Header, body and request timeouts short enough to watch them act within a scenario (the
/// defaults are 10, 20, 30 and 60 s); the stall limit must stay above the 10 s SSE heartbeat.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
pub const BODY_TIMEOUT: Duration = Duration::from_secs(3);
pub const STALL_TIMEOUT: Duration = Duration::from_secs(11);

/// A stack whose api runs with the short timeouts above (and `extra`).
pub async fn stack<'e>(
    env: &'e mut Env,
    name: &'static str,
    extra: &[(&str, &str)],
) -> anyhow::Result<Stack<'e>> {
    let mut vars: HashMap<String, String> = [
        ("HTTP_HEADER_TIMEOUT_S", HEADER_TIMEOUT.as_secs().to_string()),
        ("HTTP_BODY_TIMEOUT_S", BODY_TIMEOUT.as_secs().to_string()),
        ("HTTP_REQUEST_TIMEOUT_S", "4".to_owned()),
        ("HTTP_STALL_TIMEOUT_S", STALL_TIMEOUT.as_secs().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Stack::with_api_env(env, name, vars).await
}

pub fn api_pid(s: &Stack<'_>) -> anyhow::Result<u32> {
    s.api_pid().context("the api is not running")
}

pub fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

/// A training job carrying `bars` daily bars inline: 7 500 make a body of ~1 MB (under 1 MiB).
pub fn inline_training(bars: usize, seed: u64) -> Value {
    let start = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).expect("a date");
    let bars: Vec<Value> = (0..bars)
        .map(|i| {
            let close = 100.0 + (i as f64 * 0.37 + seed as f64).sin() * 5.0;
            json!({"time": (start + chrono::Days::new(i as u64)).to_string(),
                   "open": close, "high": close + 1.25, "low": close - 1.25, "close": close,
                   "volume": 1000 + i})
        })
        .collect();
    json!({"kind": "training", "input": {"symbol": "SYN", "model": "nhits", "horizon": 5,
        "max_steps": 10, "seed": seed, "data": {"source": "inline", "bars": bars}}})
}

/// Polls a job until it is final (or `limit`); returns it.
pub async fn wait_job(s: &Stack<'_>, id: Uuid, limit: Duration) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + limit;
    let http = s.http_builder().build()?;
    loop {
        let job: Value = http.get(format!("{}/jobs/{id}", s.api_url)).send().await?.json().await?;
        if ["succeeded", "failed", "cancelled"].contains(&job["status"].as_str().unwrap_or("")) {
            return Ok(job);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("job {id} not final within {limit:?}: {job}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The api's `host:port`, for raw connections.
pub fn api_addr(s: &Stack<'_>) -> String {
    s.api_url.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes the connection (or `limit`): how long that took, what it sent,
/// and whether it did close.
pub async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (Duration, Vec<u8>, bool) {
    let started = tokio::time::Instant::now();
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(started + limit, stream.read(&mut buf)).await {
            Err(_) => return (started.elapsed(), received, false),
            Ok(Ok(0) | Err(_)) => return (started.elapsed(), received, true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}
