//! API integration tests: the real router on port 0 against real Postgres and Redis.

mod access;
mod artifacts;
mod browser;
mod dashboard;
mod events;
mod helpers;
mod jobs;
mod limits;
mod market;
mod models;
mod operations;
mod overview;
mod quotas;
mod validation;
