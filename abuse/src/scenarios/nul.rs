//! Row 1: a NUL character in a string of `input`, among valid submissions. Before: 500, and
//! since inserts are batched, 844 of 1 200 valid POSTs sent at the same time also got 500.

use futures::{StreamExt, stream};
use testkit::procs::Env;

use super::{journal, stack};
use crate::{probe::Latencies, report::Report};

const VALID: usize = 1200;
const POISONED: usize = 300;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("nul", "U+0000 in a field while others submit");
    let s = stack(env, "nul", &[]).await?;
    let client = s.client();
    let bodies: Vec<(bool, serde_json::Value)> = (0..VALID + POISONED)
        .map(|i| {
            let poisoned = i % 5 == 4;
            let text = if poisoned { format!("entry {i}\u{0}") } else { format!("entry {i}") };
            (poisoned, journal(&text))
        })
        .collect();
    let answers: Vec<_> = stream::iter(bodies.iter().map(|(poisoned, body)| {
        let client = client.clone();
        async move {
            let started = std::time::Instant::now();
            (*poisoned, client.post(body).await, started.elapsed())
        }
    }))
    .buffer_unordered(64)
    .collect()
    .await;
    let (mut valid_ok, mut valid_failed, mut poisoned_422, mut poisoned_other) = (0, 0, 0, 0);
    let mut latencies = Latencies::default();
    for (poisoned, answer, took) in answers {
        latencies.record(took);
        let (status, body) = answer?;
        match (poisoned, status) {
            (false, 202) => valid_ok += 1,
            (false, _) => valid_failed += 1,
            (true, 422) if body["body"]["field"] == "input.text" => poisoned_422 += 1,
            (true, _) => poisoned_other += 1,
        }
    }
    report.figure(format!("{valid_ok}/{VALID} valid POSTs 202, {valid_failed} failed"));
    report.figure(format!("{poisoned_422}/{POISONED} NUL POSTs 422 naming input.text"));
    report.figure(format!("POST {}", latencies.summary()));
    report.check(valid_failed == 0, format!("{valid_failed} valid POSTs failed"));
    report.check(
        poisoned_other == 0,
        format!("{poisoned_other} NUL POSTs were not a 422 on input.text"),
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&s.pool).await?;
    report.check(stored == VALID as i64, format!("{stored} jobs stored, expected {VALID}"));
    s.stop().await;
    Ok(report)
}
