//! A finished training job's page draws its loss and forecast charts with as many points as
//! the API's result holds, and marks the served forecaster in the evaluation table.

use anyhow::{Context, ensure};
use serde_json::Value;

use crate::ctx::{Ctx, UI};

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    let id = ctx.trained_job().await?;
    let job = ctx.job(id).await?;
    let r = &job["result"];
    let len = |v: &Value| v.as_array().map(Vec::len);
    let loss = len(&r["loss_history"]["step"]).context("no result.loss_history.step")?;
    let history = len(&r["chart"]["history"]["value"]).context("no result.chart.history.value")?;
    let forecast = len(&r["forecast"]).context("no result.forecast")?;

    let b = &ctx.browser;
    b.goto(&format!("/ui/jobs/{id}")).await?;
    ctx.on_page("job").await?;
    let mut notes = Vec::new();
    for (chart, want) in [("#loss-chart", loss), ("#forecast-chart", history + forecast)] {
        b.wait_for(&format!("{chart}[data-points]"), UI).await?;
        let points = b.attr(chart, "data-points").await?.unwrap_or_default();
        let points: usize =
            points.parse().with_context(|| format!("{chart} data-points {points:?}"))?;
        ensure!(points > 0 && points == want, "{chart} drew {points} points, the API has {want}");
        let inked = inked_pixels(ctx, chart).await?;
        ensure!(inked > 0, "{chart}'s canvas is blank");
        notes.push(format!("{chart} {points} points, {inked} px"));
    }
    ensure!(
        b.exists("table#evaluation tr.served[data-forecaster]").await,
        "no served row in table#evaluation"
    );
    let served = b.attr("table#evaluation tr.served", "data-forecaster").await?.unwrap_or_default();
    ensure!(
        r["served_by"].as_str() == Some(served.as_str()),
        "table#evaluation serves {served:?}, the API {}",
        r["served_by"]
    );
    Ok(notes.join("; "))
}

/// Pixels with any opacity on the chart's canvases: zero means nothing was drawn.
async fn inked_pixels(ctx: &Ctx<'_>, chart: &str) -> anyhow::Result<u64> {
    let script = format!(
        r#"let n = 0;
        for (const c of document.querySelectorAll('{chart} canvas')) {{
            if (!c.width || !c.height) continue;
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
        }}
        return n;"#
    );
    let n = ctx.browser.eval(&script).await?;
    n.as_u64().context("pixel count")
}
