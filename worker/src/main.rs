use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use shared::config::{Env, settings};
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
        let addr = env.raw(&settings::WORKER_HEALTH_ADDR).unwrap_or_default();
        return match shared::healthcheck::probe(&addr, "/health", Duration::from_secs(3)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                ExitCode::FAILURE
            }
        };
    }
    shared::telemetry::init(&env);
    let config = match WorkerConfig::from_env(&env) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::on_signal(shutdown.clone()));
    let result = match WorkerApp::build(config, shutdown).await {
        Ok(app) => app.run().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, error.message = %e, "worker stopped");
            ExitCode::FAILURE
        }
    }
}
