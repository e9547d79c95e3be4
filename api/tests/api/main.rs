//! API integration tests: the real router on port 0 against real Postgres and Redis.

mod helpers;
mod jobs;
mod operations;
mod validation;
