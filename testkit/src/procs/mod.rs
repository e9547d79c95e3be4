//! The real `api` and `worker` binaries as processes, as `docker compose up --scale worker=N`
//! runs them but on loopback, against Postgres and Redis servers of their own (so a suite can
//! stop, restart and wipe them) and the Ollama double: the chaos suite's and the abuse suite's
//! stack.

pub mod servers;
mod stack;

pub use stack::{ApiClient, Env, Stack, WorkerProc};
