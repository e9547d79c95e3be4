//! The abuse suite (issue 9): every hostile request of the table replayed against the
//! real binaries, with the fixed behaviour asserted and measured (memory from /proc, latency as
//! a client sees it). Prints one line of figures per scenario and a table; exits 1 when any
//! scenario failed, keeping the logs.

mod probe;
mod report;
mod scenarios;

use std::{path::PathBuf, time::Instant};

use clap::Parser;
use testkit::procs::Env;

#[derive(Debug, Parser)]
#[command(name = "abuse")]
struct Args {
    /// Directory holding the `api` and `worker` binaries.
    #[arg(long, default_value = "target/release")]
    bins: PathBuf,
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
        "==> abuse: scratch {}, binaries {}",
        env.scratch.path().display(),
        args.bins.display()
    );
    let mut reports = Vec::new();
    for name in selected {
        eprintln!("==> {name}");
        let started = Instant::now();
        let mut report = match scenarios::run(name, &mut env).await {
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
        eprintln!("==> abuse: FAILED (logs kept in {})", scratch.keep().display());
        std::process::exit(1);
    }
    Ok(())
}
