use std::process::ExitCode;

use api::{ApiConfig, Application};
use clap::{Parser, Subcommand};
use shared::{
    cli,
    config::{Env, settings},
};
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
        return cli::healthcheck(&env, &settings::API_ADDR).await;
    }
    shared::telemetry::init(&env);
    let config = match ApiConfig::from_env(&env) {
        Ok(config) => config,
        Err(e) => return cli::config_error(e),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::on_signal(shutdown.clone()));
    let result = match Application::build(config, shutdown).await {
        Ok(app) => app.run_until_stopped().await,
        Err(e) => Err(e),
    };
    cli::exit(result, "api")
}
