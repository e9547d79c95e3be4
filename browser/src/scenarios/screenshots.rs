//! Full-page screenshots of every page at a laptop's and a phone's width, for a person to look
//! at: `<shots>/{jobs,market,training,submit,overview}-{1280,390}.png`.

use crate::{
    ctx::{Ctx, UI, journal},
    driver::height_for,
};

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    let market = ctx.market_job().await?;
    let training = ctx.trained_job().await?;
    // Several rows on the list, whatever ran before.
    for text in ["Chased a gap up; sized too big.", "Waited for my level; took the plan."] {
        ctx.submit(&journal(text)).await?;
    }
    let pages = [
        ("jobs", "/".to_owned(), "tbody#job-rows tr.job-row"),
        ("market", format!("/ui/jobs/{market}"), "#decision"),
        ("training", format!("/ui/jobs/{training}"), "#forecast-chart[data-points]"),
        ("submit", "/ui/submit".to_owned(), "form#submit-journal"),
        ("overview", "/ui/overview".to_owned(), "table#counts"),
    ];
    let b = &ctx.browser;
    let (mut saved, mut overflow) = (Vec::new(), Vec::new());
    let result: anyhow::Result<()> = async {
        for width in [1280, 390] {
            b.resize(width, height_for(width)).await?;
            for (name, path, ready) in &pages {
                b.goto(path).await?;
                b.wait_for(ready, UI).await?;
                saved.push(b.screenshot(name, width).await?);
                // Reported, not failed: a page wider than a phone scrolls sideways.
                let wide = "return document.documentElement.scrollWidth > window.innerWidth";
                if b.eval(wide).await? == true {
                    overflow.push(format!("{name}-{width}"));
                }
            }
        }
        Ok(())
    }
    .await;
    b.resize(1280, 900).await?;
    result?;
    let mut notes = format!("{} screenshots", saved.len());
    if !overflow.is_empty() {
        notes.push_str(&format!("; wider than the viewport: {}", overflow.join(", ")));
    }
    Ok(notes)
}
