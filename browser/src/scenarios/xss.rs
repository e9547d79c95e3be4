//! Markup in a journal entry stays text: on its page and the jobs list it is shown, never run.

use std::time::Duration;

use anyhow::ensure;

use crate::ctx::{Ctx, LIMIT, UI, journal};

const TEXT: &str = r#"Closed early. <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> Lesson: follow the plan."#;

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    let id = ctx.submit(&journal(TEXT)).await?;
    ctx.wait_status(id, &["succeeded"], LIMIT).await?;
    let b = &ctx.browser;

    b.goto(&format!("/ui/jobs/{id}")).await?;
    ctx.on_page("job").await?;
    let input = b.wait_for("#input", UI).await?.text().await?;
    ensure!(input.contains("<script>"), "#input does not show the markup as text: {input:?}");
    ensure!(input.contains("onerror="), "#input lost the img markup: {input:?}");
    not_run(ctx, "the job page").await?;

    b.goto("/").await?;
    ctx.on_page("jobs").await?;
    b.wait_for(&format!("tr.job-row[data-job-id=\"{id}\"]"), UI).await?;
    not_run(ctx, "the jobs list").await?;
    Ok(String::new())
}

/// Neither payload ran, and neither became an element.
async fn not_run(ctx: &Ctx<'_>, page: &str) -> anyhow::Result<()> {
    // An <img src=x> would fail to load (and fire onerror) within moments.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pwned = ctx
        .browser
        .eval("return typeof window.__pwned === 'undefined' ? null : window.__pwned")
        .await?;
    ensure!(pwned.is_null(), "{page} ran the journal's markup: window.__pwned = {pwned}");
    let injected = ctx
        .browser
        .eval(r#"return [...document.querySelectorAll('script, img')].filter(e => (e.outerHTML || '').includes('__pwned')).length"#)
        .await?;
    ensure!(injected == 0, "{page} holds the journal's markup as {injected} element(s)");
    Ok(())
}
