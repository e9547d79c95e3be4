//! The forecasters N-HiTS is judged against.

use serde::{Deserialize, Serialize};

/// Who produces a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Forecaster {
    Nhits,
    /// The last value, repeated.
    Naive,
    /// The line through the first bar and the last bar, extended.
    Drift,
}

impl Forecaster {
    pub fn name(self) -> &'static str {
        match self {
            Self::Nhits => "N-HiTS",
            Self::Naive => "naive (last value)",
            Self::Drift => "drift",
        }
    }
}

/// `yhat_j = y[t0-1]` for `j = 1..=h`, where `history = y[..t0]`.
pub fn naive(history: &[f64], horizon: usize) -> Vec<f64> {
    vec![history[history.len() - 1]; horizon]
}

/// `yhat_j = last + j * (last - y[0]) / (t0 - 1)`, the slope over the whole history.
/// A single bar has no slope: the forecast is then naive.
pub fn drift(history: &[f64], horizon: usize) -> Vec<f64> {
    let last = history[history.len() - 1];
    let slope =
        if history.len() > 1 { (last - history[0]) / (history.len() - 1) as f64 } else { 0.0 };
    (1..=horizon).map(|j| last + j as f64 * slope).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_repeats_the_last_value() {
        assert_eq!(naive(&[1.0, 5.0, 3.0], 2), vec![3.0, 3.0]);
    }

    #[test]
    fn drift_extends_the_line_through_the_first_and_last_bars() {
        // slope (7 - 1) / 3 = 2
        assert_eq!(drift(&[1.0, 9.0, 0.0, 7.0], 3), vec![9.0, 11.0, 13.0]);
        assert_eq!(drift(&[4.0], 2), vec![4.0, 4.0]);
    }
}
