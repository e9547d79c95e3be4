//! The harness itself: Swagger UI at `/docs` (DOCS_PUBLIC=true, no login) renders the API's
//! operations in Chromium, a full-page screenshot is saved, and the console log can be read.
//! Needs no dashboard.

use crate::ctx::{Ctx, UI};

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    let b = &ctx.browser;
    b.goto("/docs/").await?;
    // Swagger UI fetches /openapi.json and renders one block per operation.
    b.wait_for(".swagger-ui .opblock", UI).await?;
    let ops = b.eval("return document.querySelectorAll('.swagger-ui .opblock').length").await?;
    let shot = b.screenshot("docs", 1280).await?;
    // The console log is readable (the suite fails scenarios on the errors it holds).
    let logged = b.console().await.map_err(|e| anyhow::anyhow!("no console log: {e}"))?;
    Ok(format!("{ops} operations shown; {} console entries; {}", logged.len(), shot.display()))
}
