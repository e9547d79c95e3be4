//! A journal entry submitted through the form; its row on the jobs list follows the job to
//! `succeeded` live (no reload), then the job page shows the review and the report.

use std::time::Duration;

use anyhow::{Context, ensure};
use serde_json::Value;

use crate::ctx::{Ctx, LIMIT, UI};

const TEXT: &str = "Bought EURUSD at 1.0850 after the breakout; moved my stop twice.";

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    // Slow replies keep the job queued or running long enough to be seen.
    ctx.stack.ollama().set_chat_delay(Duration::from_secs(4));
    let result = watch(ctx).await;
    ctx.stack.ollama().set_chat_delay(Duration::ZERO);
    result
}

async fn watch(ctx: &Ctx<'_>) -> anyhow::Result<String> {
    let b = &ctx.browser;
    b.goto("/ui/submit").await?;
    ctx.on_page("submit").await?;
    b.fill("form#submit-journal textarea[name=text]", TEXT).await?;
    ctx.send_form("form#submit-journal").await?;
    ctx.on_page("job").await?;
    let id = b.attr("section#job", "data-job-id").await?.context("no data-job-id")?;
    let path = b.path().await?;
    ensure!(path == format!("/ui/jobs/{id}"), "the form led to {path}, not /ui/jobs/{id}");

    b.goto("/").await?;
    let row = format!("tr.job-row[data-job-id=\"{id}\"]");
    b.wait_for(&row, UI).await?;
    // Records each change of the row's status, checked every 100 ms, in the page itself.
    b.eval(&format!(
        r#"window.__marker = 1; window.__seen = [];
        setInterval(() => {{
            const r = document.querySelector({quoted});
            const s = r ? r.dataset.status : 'missing';
            if (window.__seen[window.__seen.length - 1] !== s) window.__seen.push(s);
        }}, 100);
        return null;"#,
        quoted = Value::from(row.as_str())
    ))
    .await?;
    let done = b.wait_until("(window.__seen || []).includes('succeeded')", LIMIT).await;
    let seen: Vec<String> = match b.eval("return window.__seen || null").await? {
        Value::Array(s) => s.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect(),
        _ => anyhow::bail!("the jobs page reloaded (window.__seen is gone)"),
    };
    let api = ctx.job(id.parse()?).await?;
    done.with_context(|| format!("statuses seen {seen:?}; the API says {}", api["status"]))?;
    let marker = b.eval("return window.__marker === 1").await?;
    ensure!(marker == true, "the jobs page reloaded while the job ran");
    ensure!(
        seen.iter().any(|s| s == "queued" || s == "running"),
        "the row never showed queued or running: {seen:?}"
    );
    let status_cell = b.text(&format!("{row} td.status")).await?;
    ensure!(status_cell.trim() == "succeeded", "td.status says {status_cell:?}");

    b.goto(&format!("/ui/jobs/{id}")).await?;
    ctx.on_page("job").await?;
    b.wait_for("#review", UI).await?;
    let report = b.text("#report").await?;
    ensure!(!report.trim().is_empty(), "#report is empty");
    for part in ["#emotions", "#rules-broken", "#biases", "#advice"] {
        ensure!(b.exists(part).await, "#review has no {part}");
    }
    Ok(format!("row statuses {}", seen.join("→")))
}
