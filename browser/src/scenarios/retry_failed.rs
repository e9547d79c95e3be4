//! A failed job retried from the overview's dead-letter table: a market analysis of a CSV
//! file that is not there fails for good; once the file exists, `button.retry` re-queues it
//! and it succeeds.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use serde_json::Value;
use uuid::Uuid;

use crate::ctx::{Ctx, LIMIT, UI, market};

const FILE: &str = "arrives-later.csv";

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    let id = ctx.submit(&market("SYNTH", Some(FILE))).await?;
    let failed = ctx.wait_status(id, &["failed"], LIMIT).await?;

    // The fault goes away: the file appears in DATA_DIR.
    let csv = testkit::data::synthetic_daily_csv(420, 7);
    std::fs::write(ctx.stack.dir.join("data").join(FILE), csv)?;

    let b = &ctx.browser;
    b.goto("/ui/overview").await?;
    ctx.on_page("overview").await?;
    let row = format!("table#failed tbody tr[data-job-id=\"{id}\"]");
    b.wait_for(&row, UI).await?;
    let error = b.text(&format!("{row} td.error")).await?;
    ensure!(!error.trim().is_empty(), "the failed row's td.error is empty");
    b.click(&format!("{row} button.retry")).await?;
    let _ = b.client.accept_alert().await;

    let requeued = requeued(ctx, id, &failed).await?;
    ctx.wait_status(id, &["succeeded"], LIMIT).await?;
    Ok(format!("failed with {:?}; after retry {requeued} then succeeded", error.trim()))
}

/// The first status after `failed` once the click's request went through: `failed` again
/// with a new finish time means the retry ran and failed.
async fn requeued(ctx: &Ctx<'_>, id: Uuid, failed: &Value) -> anyhow::Result<String> {
    let deadline = Instant::now() + UI;
    loop {
        let job = ctx.job(id).await?;
        match job["status"].as_str().unwrap_or_default() {
            "failed" if job["finished_at"] != failed["finished_at"] => {
                bail!("retried, and failed again: {}", job["error"]);
            }
            "failed" if Instant::now() > deadline => bail!("still failed {UI:?} after the click"),
            "failed" => tokio::time::sleep(Duration::from_millis(100)).await,
            other => return Ok(other.to_owned()),
        }
    }
}
