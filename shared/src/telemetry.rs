//! Structured logging: one subscriber, `RUST_LOG` filter, `LOG_FORMAT=json` for machines.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{Env, settings};

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init(env: &Env) {
    let filter = env.raw(&settings::RUST_LOG).unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = env.raw(&settings::LOG_FORMAT).is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry.with(fmt::layer().json().flatten_event(true).with_current_span(true)).init();
    } else {
        registry.with(fmt::layer().with_target(false)).init();
    }
}

/// For tests: logs to the test writer when `TEST_LOG` is set, otherwise nowhere. Idempotent.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_none() {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_test_writer())
        .try_init();
}
