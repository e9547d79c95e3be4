//! Types and infrastructure shared by the `api` and `worker` binaries: job model and
//! validation, Postgres repository, Redis queue transport, configuration, telemetry,
//! market data and indicators.

pub mod field_error;
pub mod indicators;
pub mod market;
