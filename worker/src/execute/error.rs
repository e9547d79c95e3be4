//! How an attempt can fail, and what the worker does about it.

use std::time::Duration;

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

/// Exponential backoff with jitter: `base · 2^(attempt-1)`, capped at `max`, then scaled by a
/// random factor in [0.5, 1] so that jobs failing together do not retry together.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt.clamp(1, 20) - 1) as u32).min(max);
    exp.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_within_jitter_and_cap() {
        let (base, max) = (Duration::from_secs(1), Duration::from_secs(10));
        for _ in 0..100 {
            let first = backoff(1, base, max);
            assert!(first >= Duration::from_millis(500) && first <= base, "{first:?}");
            let third = backoff(3, base, max);
            assert!(
                third >= Duration::from_secs(2) && third <= Duration::from_secs(4),
                "{third:?}"
            );
            assert!(backoff(30, base, max) <= max);
        }
    }
}
