//! The browser suite: the dashboard in headless Chromium (through chromedriver) against the
//! real `api` and `worker` binaries, private Postgres and Redis and the Ollama double, as the
//! chaos suite runs them. Prints one line per scenario, `ok` or `FAILED: reason`; exits 1 when
//! any failed. Screenshots go to `--shots` (scripts/browser-test.sh: `target/browser/`).

mod bench;
mod ctx;
mod driver;
mod scenarios;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use clap::Parser;
use testkit::procs::Env;

use crate::{ctx::Ctx, driver::Chromedriver};

#[derive(Debug, Parser)]
#[command(name = "browser")]
struct Args {
    /// Directory holding the `api` and `worker` binaries.
    #[arg(long, default_value = "target/debug")]
    bins: PathBuf,
    /// Where screenshots are written.
    #[arg(long, default_value = "target/browser")]
    shots: PathBuf,
    /// Instead of the scenarios: time the jobs page with 10 000 jobs behind it
    /// (scripts/bench-dashboard.sh).
    #[arg(long, conflicts_with = "scenarios")]
    bench: bool,
    /// Scenarios to run (default: all), by name.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(scenarios::NAMES))]
    scenarios: Vec<String>,
}

/// A scenario that hangs (a page that never updates) fails instead of stalling the run.
const SCENARIO_LIMIT: Duration = Duration::from_secs(240);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let selected: Vec<&str> = scenarios::NAMES
        .iter()
        .copied()
        .filter(|n| args.scenarios.is_empty() || args.scenarios.iter().any(|s| s == n))
        .collect();
    let mut env = Env::start(args.bins.clone()).await?;
    let scratch = env.scratch.path().to_owned();
    eprintln!("==> browser: scratch {}", scratch.display());
    let driver = Chromedriver::start(&scratch.join("chromedriver.log")).await?;
    if args.bench {
        let api_env = [("AUTH_MODE", "required")];
        let ctx = Ctx::start(&mut env, &driver, args.shots.clone(), "bench", &api_env).await?;
        let result = tokio::time::timeout(bench::LIMIT, bench::run(&ctx)).await;
        ctx.stop().await;
        return result.map_err(|_| anyhow::anyhow!("the bench took over {:?}", bench::LIMIT))?;
    }
    let mut failed = false;

    // Every scenario but auth_disabled shares one stack with AUTH_MODE=required.
    let shared: Vec<&str> = selected.iter().copied().filter(|n| *n != "auth_disabled").collect();
    if !shared.is_empty() {
        let api_env = [("AUTH_MODE", "required"), ("DOCS_PUBLIC", "true")];
        match Ctx::start(&mut env, &driver, args.shots.clone(), "browser", &api_env).await {
            Ok(mut ctx) => {
                for name in shared {
                    failed |= !run_one(name, &mut ctx).await;
                }
                ctx.stop().await;
            }
            Err(e) => {
                for name in shared {
                    println!("{name:<16} FAILED: the stack did not start: {}", one_line(&e));
                }
                failed = true;
            }
        }
    }
    if selected.contains(&"auth_disabled") {
        let started = Instant::now();
        let result = scenarios::auth_disabled::run(&mut env, &driver, args.shots.clone()).await;
        failed |= !report("auth_disabled", started, result);
    }

    let Env { scratch, pg, redis, .. } = env;
    drop((pg, redis, driver)); // exit below runs no destructors
    if failed {
        eprintln!("==> browser: FAILED (logs kept in {})", scratch.keep().display());
        std::process::exit(1);
    }
    Ok(())
}

/// Runs one scenario on the shared stack; whether it passed. Console errors the pages logged
/// meanwhile (uncaught exceptions, CSP refusals) fail it too.
async fn run_one(name: &'static str, ctx: &mut Ctx<'_>) -> bool {
    let _ = ctx.browser.console().await; // drop what earlier scenarios logged
    let started = Instant::now();
    let result = match tokio::time::timeout(SCENARIO_LIMIT, scenarios::run(name, ctx)).await {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!("did not finish within {SCENARIO_LIMIT:?}")),
    };
    let result = match (result, ctx.browser.page_errors().await) {
        (Ok(_), Ok(errors)) if !errors.is_empty() => {
            Err(anyhow::anyhow!("the page logged errors: {}", errors.join(" | ")))
        }
        (result, _) => result,
    };
    report(name, started, result)
}

fn report(name: &str, started: Instant, result: anyhow::Result<String>) -> bool {
    let took = started.elapsed().as_secs_f64();
    let ok = result.is_ok();
    match result {
        Ok(notes) if notes.is_empty() => println!("{name:<16} ok ({took:.1} s)"),
        Ok(notes) => println!("{name:<16} ok ({took:.1} s; {notes})"),
        Err(e) => println!("{name:<16} FAILED: {} ({took:.1} s)", one_line(&e)),
    }
    ok
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
