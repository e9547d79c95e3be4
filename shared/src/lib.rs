//! Types and infrastructure shared by the `api` and `worker` binaries: job model and
//! validation, Postgres repository, Redis queue transport, configuration, telemetry,
//! market data and indicators.

pub mod cli;
pub mod config;
pub mod db;
pub mod field_error;
pub mod healthcheck;
pub mod indicators;
pub mod job;
pub mod market;
pub mod metrics;
pub mod queue;
pub mod rate_limit;
pub mod redact;
pub mod shutdown;
pub mod telemetry;
