//! Tests of the market module, one file per part.

use chrono::NaiveDate;

use super::*;

mod bar_time;
mod csv_header;
mod csv_rows;
mod cutoff;
mod limits;
mod load;
mod real_data;
mod source;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn bar(time: &str, close: f64) -> Bar {
    Bar {
        time: time.parse().unwrap(),
        open: close,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 100.0,
    }
}

fn read(text: &str) -> Result<Vec<Bar>, MarketDataError> {
    read_csv_from(text.as_bytes(), "test.csv")
}

/// The `(line, message)` of a parse error, failing the test for any other outcome.
fn parse_error(result: Result<Vec<Bar>, MarketDataError>) -> (u64, String) {
    match result {
        Err(MarketDataError::Parse { origin, line, message }) => {
            assert_eq!(origin, "test.csv");
            (line, message)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}
