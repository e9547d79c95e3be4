//! End to end in one process: the API on port 0, a worker, the Ollama double, real Postgres
//! and Redis.

mod analysis;
mod faults;
mod helpers;
mod limits;
mod market_data;
mod model;
mod ownership;
mod queue;
mod training;
