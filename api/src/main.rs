use std::{process::ExitCode, time::Duration};

use api::{ApiConfig, Application};
use clap::{Parser, Subcommand};
use shared::config::{Env, settings};
use tokio_util::sync::CancellationToken;

/// The Tradeforge HTTP API.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Exit 0 when the local API answers /health (the container HEALTHCHECK).
    Healthcheck,
}

#[tokio::main]
async fn main() -> ExitCode {
    let env = Env::from_process();
    if let Some(Command::Healthcheck) = Cli::parse().command {
        let addr = env.raw(&settings::API_ADDR).unwrap_or_default();
        return match shared::healthcheck::probe(&addr, "/health", Duration::from_secs(3)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                ExitCode::FAILURE
            }
        };
    }
    shared::telemetry::init(&env);
    let config = match ApiConfig::from_env(&env) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::on_signal(shutdown.clone()));
    let result = match Application::build(config, shutdown).await {
        Ok(app) => app.run_until_stopped().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, error.message = %e, "api stopped");
            ExitCode::FAILURE
        }
    }
}
