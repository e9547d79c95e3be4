//! The latest value of every indicator, as handed to the analysis pipeline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{atr_wilder, bollinger, ema, macd, period_return, rsi_wilder, sma, volatility};
use crate::market::Bar;

/// Fewer bars than this cannot give SMA 50, the longest average the snapshot always reports.
pub const MIN_BARS: usize = 50;

/// Indicator values at the last bar. Every value uses only that bar and earlier ones.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, ToSchema)]
pub struct IndicatorSnapshot {
    /// Time of the last bar (`2010-05-28` or `2017-04-19T09:00:00`).
    pub as_of: String,
    /// How many bars the values were computed from.
    pub bars_used: usize,
    /// Close of the last bar.
    pub close: f64,
    pub sma_20: f64,
    pub sma_50: f64,
    /// `None` with fewer than 200 bars.
    pub sma_200: Option<f64>,
    /// EMA seeded with the SMA of its first 12 closes, alpha 2/13.
    pub ema_12: f64,
    /// EMA seeded with the SMA of its first 26 closes, alpha 2/27.
    pub ema_26: f64,
    /// `ema_12 - ema_26`.
    pub macd: f64,
    /// 9-period EMA of `macd`.
    pub macd_signal: f64,
    /// `macd - macd_signal`.
    pub macd_histogram: f64,
    /// Wilder's RSI over 14 changes, 0 to 100; 50 when prices did not move at all.
    pub rsi_14: f64,
    /// `bollinger_middle + 2σ`, σ the population deviation of the last 20 closes.
    pub bollinger_upper: f64,
    /// SMA of the last 20 closes.
    pub bollinger_middle: f64,
    /// `bollinger_middle - 2σ`.
    pub bollinger_lower: f64,
    /// Wilder's average true range over 14 bars, in price units.
    pub atr_14: f64,
    /// `close / close 20 bars earlier - 1`, a fraction (0.05 = +5%).
    pub return_20: f64,
    /// Population σ of the last 20 one-bar returns, per bar, not annualised.
    pub volatility_20: f64,
}

/// Why no snapshot could be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndicatorError {
    #[error(
        "not enough price history for the indicators: they need at least {needed} bars up to \
         the analysis date, got {got}"
    )]
    InsufficientHistory { needed: usize, got: usize },
    /// Only reachable with bars that skipped validation (a zero or infinite price).
    #[error("indicator {indicator} is not a finite number; the bars contain invalid prices")]
    NotFinite { indicator: &'static str },
}

/// Computes every indicator over `bars` (oldest first) and reports the values at the last bar.
/// See the series functions in [`crate::indicators`] for each convention.
pub fn compute(bars: &[Bar]) -> Result<IndicatorSnapshot, IndicatorError> {
    let got = bars.len();
    let Some(last_bar) = bars.last().filter(|_| got >= MIN_BARS) else {
        return Err(IndicatorError::InsufficientHistory { needed: MIN_BARS, got });
    };
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let macd = macd(&closes, 12, 26, 9);
    let bands = bollinger(&closes, 20, 2.0);
    let sma_200 = if got >= 200 { Some(last(&sma(&closes, 200), "sma_200")?) } else { None };
    Ok(IndicatorSnapshot {
        as_of: last_bar.time.to_string(),
        bars_used: got,
        close: finite(last_bar.close, "close")?,
        sma_20: last(&sma(&closes, 20), "sma_20")?,
        sma_50: last(&sma(&closes, 50), "sma_50")?,
        sma_200,
        ema_12: last(&ema(&closes, 12), "ema_12")?,
        ema_26: last(&ema(&closes, 26), "ema_26")?,
        macd: last(&macd.line, "macd")?,
        macd_signal: last(&macd.signal, "macd_signal")?,
        macd_histogram: last(&macd.histogram, "macd_histogram")?,
        rsi_14: last(&rsi_wilder(&closes, 14), "rsi_14")?,
        bollinger_upper: last(&bands.upper, "bollinger_upper")?,
        bollinger_middle: last(&bands.middle, "bollinger_middle")?,
        bollinger_lower: last(&bands.lower, "bollinger_lower")?,
        atr_14: last(&atr_wilder(bars, 14), "atr_14")?,
        return_20: last(&period_return(&closes, 20), "return_20")?,
        volatility_20: last(&volatility(&closes, 20), "volatility_20")?,
    })
}

/// The series' last value; with `MIN_BARS` bars every series used here is defined there.
fn last(series: &[Option<f64>], indicator: &'static str) -> Result<f64, IndicatorError> {
    let value = series.last().copied().flatten().unwrap_or(f64::NAN);
    finite(value, indicator)
}

// A NaN would serialise as JSON null and break reading the result back.
fn finite(value: f64, indicator: &'static str) -> Result<f64, IndicatorError> {
    if value.is_finite() { Ok(value) } else { Err(IndicatorError::NotFinite { indicator }) }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
