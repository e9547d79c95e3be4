//! Technical indicators computed from bars.
//!
//! The series functions are pure: they take prices oldest first and return one value per
//! input, `None` until enough history exists (where pandas would show NaN). Their
//! conventions follow Wilder and TradingView's `ta.*` functions, so values can be checked
//! against a chart; where pandas' defaults differ, the function's documentation says how.
//! [`compute`] gathers the latest value of each into an [`IndicatorSnapshot`].

mod atr;
mod bollinger;
mod macd;
mod moving_average;
mod returns;
mod rsi;
mod snapshot;

pub use atr::{atr_wilder, true_range};
pub use bollinger::{Bollinger, bollinger};
pub use macd::{Macd, macd};
pub use moving_average::{ema, sma};
pub use returns::{period_return, volatility};
pub use rsi::rsi_wilder;
pub use snapshot::{IndicatorError, IndicatorSnapshot, MIN_BARS, compute};

/// The mean of a non-empty slice. Summing offsets from the first value keeps digits that a
/// plain sum of large prices would lose, and makes the mean of equal values exactly that value.
fn mean(values: &[f64]) -> f64 {
    let base = values[0];
    base + values.iter().map(|v| v - base).sum::<f64>() / values.len() as f64
}

/// Population standard deviation (divides by n, pandas' `ddof=0`) of a non-empty slice,
/// in two passes for accuracy.
fn population_std(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64).sqrt()
}

#[cfg(test)]
fn assert_close(actual: Option<f64>, expected: f64, tolerance: f64) {
    let actual = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
    assert!(
        (actual - expected).abs() <= tolerance,
        "expected {expected} ± {tolerance}, got {actual}"
    );
}
