//! How an attempt can fail.

use super::StopReason;

#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt: Ollama busy or unreachable, a timeout, a reply that broke the
    /// schema twice, Postgres or the disk briefly unavailable.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: bad data, unknown model, no market data for the symbol.
    #[error("{0}")]
    Permanent(String),
    /// The server said it is full (503, 429): retry, but not before `wait` (its `Retry-After`).
    #[error("{message}")]
    Throttled { message: String, wait: std::time::Duration },
    #[error("stopped: {0:?}")]
    Stopped(StopReason),
}

impl JobError {
    pub fn transient(msg: impl Into<String>) -> Self {
        Self::Transient(msg.into())
    }

    pub fn permanent(msg: impl Into<String>) -> Self {
        Self::Permanent(msg.into())
    }
}
