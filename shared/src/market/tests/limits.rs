//! What one job may load: `MAX_DATA_BYTES`, `MAX_BARS`, and stopping on request.

use std::fs;
use std::time::Instant;

use super::*;

fn rows(n: usize) -> String {
    let mut csv = String::from(",Open,High,Low,Close,Volume\n");
    let start = day(2000, 1, 1);
    for i in 0..n {
        let date = start + chrono::Days::new(i as u64);
        csv.push_str(&format!("{date},10,12,9,11,1000\n"));
    }
    csv
}

fn limits(max_bytes: u64, max_bars: usize) -> ReadLimits<'static> {
    ReadLimits { max_bytes, max_bars, stop: &|| false }
}

#[test]
fn a_file_over_the_byte_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // 2 GB, sparse: reading it would take seconds and gigabytes.
    fs::File::create(dir.path().join("BIG.csv")).unwrap().set_len(2 << 30).unwrap();
    let started = Instant::now();
    let err = load_bars(None, "BIG", dir.path(), &limits(1 << 20, 1000)).unwrap_err();
    assert!(started.elapsed().as_millis() < 100, "{:?}", started.elapsed());
    assert!(err.is_permanent());
    let message = err.to_string();
    assert!(
        message.contains("2147483648 bytes") && message.contains("MAX_DATA_BYTES"),
        "{message}"
    );
}

#[test]
fn a_reader_longer_than_the_limit_is_cut_at_the_limit() {
    let text = rows(100);
    let err = read_csv_limited(text.as_bytes(), "pipe", &limits(100, 1000)).unwrap_err();
    assert!(err.to_string().contains("MAX_DATA_BYTES"), "{err}");
}

#[test]
fn more_bars_than_the_limit_are_refused() {
    let text = rows(50);
    let err = read_csv_limited(text.as_bytes(), "x.csv", &limits(1 << 20, 49)).unwrap_err();
    assert!(err.to_string().contains("MAX_BARS"), "{err}");
    assert_eq!(read_csv_limited(text.as_bytes(), "x.csv", &limits(1 << 20, 50)).unwrap().len(), 50);
    let source = DataSource::Inline { bars: read(&text).unwrap() };
    let err = load_bars(Some(&source), "X", std::path::Path::new("/nonexistent"), &limits(1, 10))
        .unwrap_err();
    assert!(err.to_string().contains("MAX_BARS"), "{err}");
}

#[test]
fn a_stop_request_ends_a_long_read() {
    let text = rows(20_000);
    let stopped = ReadLimits { max_bytes: u64::MAX, max_bars: usize::MAX, stop: &|| true };
    let err = read_csv_limited(text.as_bytes(), "x.csv", &stopped).unwrap_err();
    assert!(matches!(err, MarketDataError::Stopped { .. }), "{err:?}");
    assert!(!err.is_permanent());
}
