//! Logging in with a key: `/` asks for one, a wrong key is refused in words, the right one
//! opens the jobs page under the key's owner with a cookie scripts cannot read or send
//! cross-site, and logging out asks again.

use anyhow::{Context, ensure};

use crate::ctx::{Ctx, OWNER, UI};

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    let b = &ctx.browser;
    b.client.delete_all_cookies().await?;
    b.goto("/").await?;
    ctx.on_page("login").await?;
    let landed = b.path().await?;

    // Malformed, and well-formed but unknown.
    let unknown = format!("tf_{}_{}", "0".repeat(12), "0".repeat(64));
    let mut reasons = Vec::new();
    for wrong in ["tf_this_is_not_a_key", unknown.as_str()] {
        ctx.login(wrong).await?;
        let reason = b.wait_text(".form-error", UI).await;
        reasons.push(reason.context("a wrong key shows no .form-error with words")?);
        let page = "main#page[data-page=\"login\"]";
        ensure!(b.exists(page).await, "a wrong key left the login page");
    }

    ctx.login(&ctx.key).await?;
    ctx.on_page("jobs").await?;
    let path = b.path().await?;
    ensure!(path == "/", "after login the browser is at {path}, not /");
    let who = b.wait_for("#whoami", UI).await?.text().await?;
    ensure!(who.trim() == OWNER, "#whoami says {who:?}, not {OWNER:?}");

    let cookies = b.client.get_all_cookies().await?;
    ensure!(!cookies.is_empty(), "no cookie after login");
    for c in &cookies {
        ensure!(c.http_only() == Some(true), "cookie {} is not HttpOnly", c.name());
        let same_site = format!("{:?}", c.same_site());
        ensure!(same_site == "Some(Strict)", "cookie {} has SameSite {same_site}", c.name());
    }
    let visible = b.eval("return document.cookie").await?;
    ensure!(visible == "", "scripts can read cookies: {visible}");

    b.click("#logout").await?;
    let _ = b.client.accept_alert().await;
    b.wait_for("main#page[data-page=\"login\"]", UI).await?;
    b.goto("/").await?;
    ctx.on_page("login").await?;
    let names: Vec<String> = cookies.iter().map(|c| c.name().to_owned()).collect();
    Ok(format!("/ landed on {landed}; wrong keys: {reasons:?}; cookies {names:?}"))
}
