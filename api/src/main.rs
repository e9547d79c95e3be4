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
    /// Manage API keys (talks to Postgres: DATABASE_URL).
    Keys {
        #[command(subcommand)]
        command: api::auth::cli::KeysCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let env = Env::from_process();
    match Cli::parse().command {
        Some(Command::Healthcheck) => return cli::healthcheck(&env, &settings::API_ADDR).await,
        Some(Command::Keys { command }) => {
            // Plain output for a person at a terminal: no log lines unless RUST_LOG asks.
            return match api::auth::cli::run(&env, command).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("api keys: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Serve) | None => {}
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
