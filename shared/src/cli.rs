//! What both binaries' `main` share: the `healthcheck` subcommand and turning the outcome into
//! an exit code with one log line.

use std::{process::ExitCode, time::Duration};

use crate::config::{ConfigError, Env, Setting};

/// `<binary> healthcheck`: probes `/health` on the address in `addr` (the container HEALTHCHECK).
pub async fn healthcheck(env: &Env, addr: &Setting) -> ExitCode {
    let addr = env.raw(addr).unwrap_or_default();
    match crate::healthcheck::probe(&addr, "/health", Duration::from_secs(3)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One line naming the bad variable, exit code 2.
pub fn config_error(e: ConfigError) -> ExitCode {
    eprintln!("configuration error: {e}");
    ExitCode::from(2)
}

/// Logs why the process stopped, if it failed.
pub fn exit(result: anyhow::Result<()>, binary: &str) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A connection error may quote the URL it was given, password included.
            let chain = crate::redact::redact_urls_in(&format!("{e:?}"));
            let message = crate::redact::redact_urls_in(&e.to_string());
            tracing::error!(error.cause_chain = %chain, error.message = %message, "{binary} stopped");
            ExitCode::FAILURE
        }
    }
}
