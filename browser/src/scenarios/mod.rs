//! One module per scenario. Each returns notes for its `ok` line, or why it failed.

pub mod auth_disabled;
mod bad_symbol;
mod cancel_training;
mod docs;
mod journal_live;
mod login;
mod retry_failed;
mod screenshots;
mod training_charts;
mod xss;

use crate::ctx::Ctx;

/// In the order they run: the harness check first, then cheap ones; the screenshots reuse
/// jobs made before them; auth_disabled needs a stack of its own, so it runs last.
pub const NAMES: &[&str] = &[
    "docs",
    "login",
    "bad_symbol",
    "journal_live",
    "xss",
    "retry_failed",
    "cancel_training",
    "training_charts",
    "screenshots",
    "auth_disabled",
];

pub async fn run(name: &str, ctx: &mut Ctx<'_>) -> anyhow::Result<String> {
    match name {
        "docs" => docs::run(ctx).await,
        "login" => login::run(ctx).await,
        "bad_symbol" => bad_symbol::run(ctx).await,
        "journal_live" => journal_live::run(ctx).await,
        "xss" => xss::run(ctx).await,
        "retry_failed" => retry_failed::run(ctx).await,
        "cancel_training" => cancel_training::run(ctx).await,
        "training_charts" => training_charts::run(ctx).await,
        "screenshots" => screenshots::run(ctx).await,
        other => anyhow::bail!("unknown scenario {other}"),
    }
}
