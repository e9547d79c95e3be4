use chrono::NaiveDate;

use super::*;
use crate::market::BarTime;

/// Daily bars from 2024-01-01 with the given closes; open = close, high/low = close ± 1.
fn bars_with_closes(closes: impl IntoIterator<Item = f64>) -> Vec<Bar> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    closes
        .into_iter()
        .zip(start.iter_days())
        .map(|(close, day)| Bar {
            time: BarTime::Date(day),
            open: close,
            high: close + 1.0,
            low: close - 1.0,
            close,
            volume: 1000.0,
        })
        .collect()
}

fn ramp(n: usize) -> Vec<Bar> {
    bars_with_closes((0..n).map(|i| 100.0 + i as f64))
}

fn assert_near(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "expected {expected}, got {actual}");
}

#[test]
fn a_steady_ramp_gives_values_that_can_be_worked_out_by_hand() {
    // Closes 100, 101, …, 159 (60 bars).
    let s = compute(&ramp(60)).unwrap();
    assert_eq!(s.as_of, "2024-02-29");
    assert_eq!(s.bars_used, 60);
    assert_eq!(s.close, 159.0);
    // SMA n of a ramp = last close - (n - 1)/2: 159 - 9.5, 159 - 24.5.
    assert_near(s.sma_20, 149.5);
    assert_near(s.sma_50, 134.5);
    assert_eq!(s.sma_200, None);
    // An SMA-seeded EMA of a ramp lags by exactly (n - 1)/2 from its first value on: the seed
    // does, and if ema = v - L then alpha·(v + 1) + (1 - alpha)(v - L) = v + 1 - L for
    // L = (1 - alpha)/alpha = (n - 1)/2.
    assert_near(s.ema_12, 159.0 - 5.5);
    assert_near(s.ema_26, 159.0 - 12.5);
    // So the MACD line is a constant 7, its signal too, and the histogram 0.
    assert_near(s.macd, 7.0);
    assert_near(s.macd_signal, 7.0);
    assert_near(s.macd_histogram, 0.0);
    // Only gains.
    assert_eq!(s.rsi_14, 100.0);
    // 20 consecutive integers: population σ = sqrt((20² - 1) / 12).
    let sigma = (399.0_f64 / 12.0).sqrt();
    assert_near(s.bollinger_middle, 149.5);
    assert_near(s.bollinger_upper, 149.5 + 2.0 * sigma);
    assert_near(s.bollinger_lower, 149.5 - 2.0 * sigma);
    // Every true range is 2: high - low = 2, |high - previous close| = 2.
    assert_near(s.atr_14, 2.0);
    assert_near(s.return_20, 159.0 / 139.0 - 1.0);
    // One-bar returns into closes 140..=159 are 1/139, …, 1/158.
    let returns: Vec<f64> = (139..159).map(|c| 1.0 / f64::from(c)).collect();
    let mean = returns.iter().sum::<f64>() / 20.0;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 20.0;
    assert_near(s.volatility_20, var.sqrt());
}

#[test]
fn sma_200_appears_once_there_are_200_bars() {
    let s = compute(&ramp(199)).unwrap();
    assert_eq!(s.sma_200, None);
    let s = compute(&ramp(250)).unwrap();
    // Closes 150..=349: mean 249.5.
    assert_near(s.sma_200.unwrap(), 249.5);
}

#[test]
fn fewer_than_fifty_bars_is_a_clear_error() {
    let err = compute(&ramp(49)).unwrap_err();
    assert_eq!(err, IndicatorError::InsufficientHistory { needed: 50, got: 49 });
    assert_eq!(
        err.to_string(),
        "not enough price history for the indicators: they need at least 50 bars up to the \
         analysis date, got 49"
    );
    assert!(compute(&ramp(50)).is_ok());
}

#[test]
fn no_bars_at_all_is_insufficient_history_not_a_panic() {
    assert_eq!(
        compute(&[]).unwrap_err(),
        IndicatorError::InsufficientHistory { needed: 50, got: 0 }
    );
}

#[test]
fn a_flat_market_gives_neutral_rsi_and_no_volatility() {
    let mut bars = bars_with_closes([20.0; 60]);
    for bar in &mut bars {
        (bar.high, bar.low) = (20.0, 20.0);
    }
    let s = compute(&bars).unwrap();
    assert_eq!(s.rsi_14, 50.0);
    assert_eq!(s.atr_14, 0.0);
    assert_eq!(s.volatility_20, 0.0);
    assert_eq!(s.return_20, 0.0);
    assert_eq!(s.macd, 0.0);
    assert_eq!(s.bollinger_upper, s.bollinger_lower);
}

#[test]
fn a_zero_price_that_slipped_past_validation_is_an_error_not_a_nan() {
    let mut bars = ramp(60);
    bars[39].close = 0.0;
    assert_eq!(compute(&bars).unwrap_err(), IndicatorError::NotFinite { indicator: "return_20" });
}

#[test]
fn the_snapshot_survives_a_json_round_trip_with_sma_200_as_null() {
    let s = compute(&ramp(60)).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    assert!(json["sma_200"].is_null());
    assert_eq!(json["as_of"], "2024-02-29");
    let back: IndicatorSnapshot = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn intraday_bars_report_their_date_and_time() {
    let mut bars = ramp(60);
    let t0 = NaiveDate::from_ymd_opt(2017, 4, 19).unwrap().and_hms_opt(9, 0, 0).unwrap();
    for (i, bar) in bars.iter_mut().enumerate() {
        bar.time = BarTime::DateTime(t0 + chrono::Duration::hours(i as i64));
    }
    assert_eq!(compute(&bars).unwrap().as_of, "2017-04-21T20:00:00");
}
