//! Latency summaries and the `RESULT key=value` lines that scripts/bench.sh turns into a table.

use std::time::Duration;

/// Exact percentiles over every recorded sample (no histogram buckets).
pub struct Summary {
    sorted: Vec<Duration>,
}

impl Summary {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Nearest-rank percentile, `p` in 0..=100.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }

    pub fn mean(&self) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        self.sorted.iter().sum::<Duration>() / self.sorted.len() as u32
    }

    /// Prints a human line and `RESULT <name>_<stat>_ms=` lines for p50, p99 and max.
    pub fn report(&self, name: &str, label: &str) {
        println!(
            "{label:<28} n={:<6} mean {:>7.2} ms  p50 {:>7.2}  p90 {:>7.2}  p99 {:>7.2}  max {:>8.2}",
            self.len(),
            ms(self.mean()),
            ms(self.percentile(50.0)),
            ms(self.percentile(90.0)),
            ms(self.percentile(99.0)),
            ms(self.max()),
        );
        result(&format!("{name}_p50_ms"), format!("{:.2}", ms(self.percentile(50.0))));
        result(&format!("{name}_p99_ms"), format!("{:.2}", ms(self.percentile(99.0))));
        result(&format!("{name}_max_ms"), format!("{:.2}", ms(self.max())));
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A machine-readable figure for scripts/bench.sh.
pub fn result(key: &str, value: impl std::fmt::Display) {
    println!("RESULT {key}={value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(s.percentile(50.0), Duration::from_millis(50));
        assert_eq!(s.percentile(99.0), Duration::from_millis(99));
        assert_eq!(s.percentile(100.0), Duration::from_millis(100));
        assert_eq!(s.max(), Duration::from_millis(100));
        assert_eq!(Summary::new(vec![]).percentile(99.0), Duration::ZERO);
    }
}
