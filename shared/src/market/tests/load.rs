//! `load_bars` per source, and the no-look-ahead cut of `bars_up_to`.

use std::fs;
use std::path::Path;

use super::*;

const GOOG_CSV: &str = ",Open,High,Low,Close,Volume\n\
                        2010-05-27,10,12,9,11,1000\n\
                        2010-05-28,11,13,10.5,12.5,2000\n";

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("GOOG.csv"), GOOG_CSV).unwrap();
    fs::create_dir(dir.path().join("prices")).unwrap();
    fs::write(dir.path().join("prices/other.csv"), GOOG_CSV).unwrap();
    dir
}

#[test]
fn without_a_source_the_symbols_csv_in_the_data_directory_is_read() {
    let dir = data_dir();
    let bars = load_bars(None, "GOOG", dir.path(), &ReadLimits::NONE).unwrap();
    assert_eq!(bars.len(), 2);
    assert_eq!(bars[1].close, 12.5);
}

#[test]
fn without_a_source_or_a_file_the_error_says_there_is_no_data_for_the_symbol() {
    let dir = data_dir();
    let err = load_bars(None, "NVDA", dir.path(), &ReadLimits::NONE).unwrap_err();
    assert!(matches!(&err, MarketDataError::NoData { symbol } if symbol == "NVDA"), "{err:?}");
    assert!(err.to_string().starts_with("no market data for NVDA ("), "{err}");
    assert!(err.is_permanent());
}

#[test]
fn a_missing_data_directory_also_means_no_data() {
    let err = load_bars(None, "GOOG", Path::new("/nonexistent/tradeforge-data"), &ReadLimits::NONE)
        .unwrap_err();
    assert!(matches!(err, MarketDataError::NoData { .. }), "{err:?}");
}

#[test]
fn a_csv_source_is_read_relative_to_the_data_directory() {
    let dir = data_dir();
    let source = DataSource::Csv { path: "prices/other.csv".into() };
    assert_eq!(
        load_bars(Some(&source), "IGNORED", dir.path(), &ReadLimits::NONE).unwrap().len(),
        2
    );
}

#[test]
fn a_csv_source_that_does_not_exist_is_a_permanent_io_error_naming_the_path() {
    let dir = data_dir();
    let source = DataSource::Csv { path: "missing.csv".into() };
    let err = load_bars(Some(&source), "GOOG", dir.path(), &ReadLimits::NONE).unwrap_err();
    assert!(matches!(err, MarketDataError::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot read missing.csv: "), "{err}");
    assert!(err.is_permanent());
}

#[test]
fn a_csv_source_escaping_the_data_directory_is_refused_even_if_it_skipped_validation() {
    let dir = data_dir();
    let source = DataSource::Csv { path: "../GOOG.csv".into() };
    let err = load_bars(Some(&source), "GOOG", dir.path(), &ReadLimits::NONE).unwrap_err();
    assert!(matches!(err, MarketDataError::Invalid { .. }), "{err:?}");
}

#[cfg(unix)]
#[test]
fn a_symlink_pointing_outside_the_data_directory_is_refused() {
    let dir = data_dir();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.csv"), GOOG_CSV).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), dir.path().join("link.csv"))
        .unwrap();
    let source = DataSource::Csv { path: "link.csv".into() };
    let err = load_bars(Some(&source), "GOOG", dir.path(), &ReadLimits::NONE).unwrap_err();
    assert!(err.to_string().contains("outside the data directory"), "{err}");
}

#[test]
fn a_malformed_file_reports_the_path_the_job_gave_and_the_line() {
    let dir = data_dir();
    fs::write(dir.path().join("bad.csv"), "Date,Open,High,Low,Close\n2024-01-02,1,2,x,1\n")
        .unwrap();
    let source = DataSource::Csv { path: "bad.csv".into() };
    let err = load_bars(Some(&source), "GOOG", dir.path(), &ReadLimits::NONE).unwrap_err();
    assert_eq!(err.to_string(), "bad.csv line 2: Low is not a number: \"x\"");
}

#[test]
fn inline_bars_are_returned_as_sent() {
    let bars = vec![bar("2024-01-02", 10.0), bar("2024-01-03", 11.0)];
    let source = DataSource::Inline { bars: bars.clone() };
    assert_eq!(
        load_bars(Some(&source), "X", Path::new("/nonexistent"), &ReadLimits::NONE).unwrap(),
        bars
    );
}

#[test]
fn inline_bars_that_break_a_rule_are_refused_at_load_time_too() {
    let source =
        DataSource::Inline { bars: vec![bar("2024-01-03", 10.0), bar("2024-01-02", 11.0)] };
    let err =
        load_bars(Some(&source), "X", Path::new("/nonexistent"), &ReadLimits::NONE).unwrap_err();
    assert!(err.to_string().starts_with("inline bars: bars[1].time:"), "{err}");
}

#[test]
fn transient_io_errors_are_not_permanent() {
    for kind in [std::io::ErrorKind::Interrupted, std::io::ErrorKind::TimedOut] {
        let err = MarketDataError::Io { origin: "x.csv".into(), source: kind.into() };
        assert!(!err.is_permanent(), "{kind:?}");
    }
    let err =
        MarketDataError::Io { origin: "x.csv".into(), source: std::io::ErrorKind::NotFound.into() };
    assert!(err.is_permanent());
}

#[test]
fn bars_up_to_a_date_keeps_that_day_and_nothing_after() {
    let bars = vec![bar("2010-05-27", 1.0), bar("2010-05-28", 2.0), bar("2010-06-01", 3.0)];
    assert_eq!(bars_up_to(&bars, day(2010, 5, 28)), &bars[..2]);
    // A date between bars (a weekend) keeps everything before it.
    assert_eq!(bars_up_to(&bars, day(2010, 5, 30)), &bars[..2]);
    assert_eq!(bars_up_to(&bars, day(2030, 1, 1)), &bars[..]);
}

#[test]
fn bars_up_to_a_date_before_the_first_bar_is_empty() {
    let bars = vec![bar("2010-05-27", 1.0), bar("2010-05-28", 2.0)];
    assert!(bars_up_to(&bars, day(2010, 5, 26)).is_empty());
    assert!(bars_up_to(&[], day(2010, 5, 26)).is_empty());
}

#[test]
fn bars_up_to_keeps_every_intraday_bar_of_the_cut_off_day_and_none_of_the_next() {
    let bars: Vec<Bar> = [
        "2017-04-18 23:00",
        "2017-04-19 00:00",
        "2017-04-19 09:00",
        "2017-04-19 23:59:59",
        "2017-04-20 00:00",
        "2017-04-20 01:00",
    ]
    .iter()
    .map(|t| bar(t, 1.1))
    .collect();
    let kept = bars_up_to(&bars, day(2017, 4, 19));
    assert_eq!(kept, &bars[..4]);
    assert!(kept.iter().all(|b| b.time.date() <= day(2017, 4, 19)));
}
