//! The chaos suite (issue 5): each scenario starts the real binaries against private Postgres
//! and Redis, injects one kind of fault, then proves from Postgres, the workers' logs and the
//! results directory that every accepted job reached exactly one final state with one result.
//! Prints one line of figures per scenario and a table; exits 1 when any scenario failed.

mod audit;
mod report;
mod scenarios;

use std::{path::PathBuf, time::Instant};

use clap::Parser;
use testkit::procs::Env;

#[derive(Debug, Parser)]
#[command(name = "chaos")]
struct Args {
    /// Directory holding the `api` and `worker` binaries.
    #[arg(long, default_value = "target/debug")]
    bins: PathBuf,
    /// The long variants: 1 000 jobs under repeated kills, 30 s Ollama replies.
    #[arg(long)]
    long: bool,
    /// Scenarios to run (default: all), by name.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(scenarios::NAMES))]
    scenarios: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let selected: Vec<&str> = if args.scenarios.is_empty() {
        scenarios::NAMES.to_vec()
    } else {
        args.scenarios.iter().map(String::as_str).collect()
    };
    let mut env = Env::start(args.bins.clone()).await?;
    eprintln!(
        "==> chaos: scratch {} ({} variants)",
        env.scratch.path().display(),
        if args.long { "long" } else { "CI" }
    );
    let opts = scenarios::Opts { long: args.long };
    let mut reports = Vec::new();
    for name in selected {
        eprintln!("==> {name}");
        let started = Instant::now();
        let mut report = match scenarios::run(name, &mut env, &opts).await {
            Ok(report) => report,
            Err(e) => report::Report::failed(scenarios::static_name(name), &e),
        };
        report.took = started.elapsed();
        println!("{}", report.line());
        reports.push(report);
    }
    println!("\n{}", report::table(&reports));
    let failed = reports.iter().any(|r| !r.ok());
    let Env { scratch, pg, redis, .. } = env;
    drop((pg, redis)); // stop the servers: exit below runs no destructors
    if failed {
        eprintln!("==> chaos: FAILED (logs kept in {})", scratch.keep().display());
        std::process::exit(1);
    }
    Ok(())
}
