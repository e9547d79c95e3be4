use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::{
    cli,
    config::{Env, settings},
};
use tokio_util::sync::CancellationToken;
use worker::{WorkerApp, WorkerConfig};

/// The Tradeforge worker: runs analysis and training jobs from the Redis queues.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Consume jobs (the default).
    Serve,
    /// Exit 0 when the local worker answers /health (the container HEALTHCHECK).
    Healthcheck,
}

#[tokio::main]
async fn main() -> ExitCode {
    let env = Env::from_process();
    if let Some(Command::Healthcheck) = Cli::parse().command {
        return cli::healthcheck(&env, &settings::WORKER_HEALTH_ADDR).await;
    }
    shared::telemetry::init(&env);
    let config = match WorkerConfig::from_env(&env) {
        Ok(config) => config,
        Err(e) => return cli::config_error(e),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::on_signal(shutdown.clone()));
    let result = match WorkerApp::build(config, shutdown).await {
        Ok(app) => app.run().await,
        Err(e) => Err(e),
    };
    cli::exit(result, "worker")
}
