//! AUTH_MODE=disabled (a local single-user setup): `/` is the jobs page, no login asked.

use std::path::PathBuf;

use testkit::procs::Env;

use crate::{
    ctx::{Ctx, UI},
    driver::Chromedriver,
};

pub async fn run(env: &mut Env, driver: &Chromedriver, shots: PathBuf) -> anyhow::Result<String> {
    let api_env = [("AUTH_MODE", "disabled")];
    let ctx = Ctx::start(env, driver, shots, "browser-open", &api_env).await?;
    let result = check(&ctx).await;
    ctx.stop().await;
    result
}

async fn check(ctx: &Ctx<'_>) -> anyhow::Result<String> {
    let b = &ctx.browser;
    b.goto("/").await?;
    b.wait_for("main#page[data-page]", UI).await?;
    let page = b.attr("main#page", "data-page").await?.unwrap_or_default();
    let path = b.path().await?;
    anyhow::ensure!(page == "jobs", "/ shows data-page={page:?} at {path}, not the jobs page");
    anyhow::ensure!(!b.exists("form#login").await, "a login form on {path}");
    b.wait_for("table#jobs", UI).await?;
    Ok(String::new())
}
