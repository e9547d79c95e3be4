//! A market analysis with a symbol the API refuses: the form shows the API's own words next
//! to the symbol field (compared with a direct `POST /jobs` of the body the form sends).

use anyhow::ensure;
use serde_json::json;

use crate::ctx::{Ctx, UI};

const SYMBOL: &str = "not a symbol!";

pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    ctx.ensure_login().await?;
    let b = &ctx.browser;
    b.goto("/ui/submit?kind=market").await?;
    ctx.on_page("submit").await?;
    b.fill("form#submit-market input[name=symbol]", SYMBOL).await?;
    let date = b
        .eval("return document.querySelector('form#submit-market input[name=date]').value")
        .await?;
    let date = date.as_str().filter(|d| !d.is_empty()).unwrap_or("2010-06-01").to_owned();
    ctx.send_form("form#submit-market").await?;

    let field = "form#submit-market .field-error[data-field=\"input.symbol\"]";
    let shown = b.wait_text(field, UI).await?;
    ensure!(ctx.on_page("submit").await.is_ok(), "a refused submission left the submit page");

    // The body the form sends: it upper-cases symbols (the API accepts only upper-case ones).
    let sent = SYMBOL.to_uppercase();
    let body =
        json!({"kind": "analysis", "input": {"task": "market", "symbol": sent, "date": date}});
    let (status, problem) = ctx.post_job(&body).await?;
    ensure!(status == 422 || status == 400, "the API answered {status} to the bad symbol");
    let detail = problem["detail"].as_str().unwrap_or_default();
    ensure!(
        problem["field"] == "input.symbol",
        "the API blames {} not input.symbol",
        problem["field"]
    );
    ensure!(
        !detail.is_empty() && shown.contains(detail),
        "the form says {shown:?}, the API {detail:?}"
    );
    Ok(format!("{shown:?}"))
}
