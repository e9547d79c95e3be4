//! The Tradeforge worker: apalis consumers for the analysis and training queues.

pub mod config;
pub mod execute;
pub mod job;
pub mod llm;
pub mod pipeline;
pub mod runtime;

pub use config::WorkerConfig;
pub use runtime::{Runtime, WorkerApp};
