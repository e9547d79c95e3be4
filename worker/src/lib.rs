//! The Tradeforge worker: apalis consumers for the analysis and training queues.

pub mod ollama;
