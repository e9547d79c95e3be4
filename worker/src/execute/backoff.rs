//! When a failed attempt runs again.

use std::time::Duration;

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
