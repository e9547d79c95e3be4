//! A long training run cancelled from its page: the page follows it to `running`, its loss
//! chart grows while it trains (no reload), the cancel button stops it, and the page (and the
//! API) say `cancelled`.

use anyhow::ensure;

use crate::ctx::{Ctx, LIMIT, UI, training};

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    // The most steps allowed, on ~2000 bars: minutes of work, so it is surely still running.
    let id = ctx.submit(&training(2000, 10_000)).await?;
    let b = &ctx.browser;
    b.goto(&format!("/ui/jobs/{id}")).await?;
    ctx.on_page("job").await?;
    b.wait_for("section#job[data-status=\"running\"]", LIMIT).await?;
    b.eval("window.__marker = 1; return true;").await?;
    let step = "Number(document.querySelector('#loss-chart').dataset.lastStep || 0)";
    b.wait_until(&format!("{step} > 0"), LIMIT).await?;
    let first = b.eval(&format!("return {step}")).await?.as_f64().unwrap_or(0.0);
    b.wait_until(&format!("{step} > {first}"), UI).await?;
    let later = b.eval(&format!("return {step}")).await?.as_f64().unwrap_or(0.0);
    ensure!(b.eval("return window.__marker === 1").await? == true, "the page reloaded");
    b.click("button#cancel").await?;
    let _ = b.client.accept_alert().await;
    let shown = b.wait_for("section#job[data-status=\"cancelled\"]", UI).await;
    let api = ctx.wait_status(id, &["cancelled"], UI).await?;
    shown?;
    let text = b.text("#status-text").await?;
    ensure!(text.contains("cancelled"), "#status-text says {text:?}");
    ensure!(b.exists("button#retry").await, "no #retry on the cancelled job");
    Ok(format!("loss chart grew from step {first} to {later} live; API: {}", api["status"]))
}
