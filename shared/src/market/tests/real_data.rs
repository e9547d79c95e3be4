//! The reader on the real price files in `../shared/data` (skipped when they are absent).

use std::path::{Path, PathBuf};

use super::*;

fn data_file(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).join(name);
    if path.is_file() {
        Some(path)
    } else {
        println!("skipping: {} not found", path.display());
        None
    }
}

#[test]
fn goog_daily_file_reads_2148_dated_bars_from_2004_to_2013() {
    let Some(path) = data_file("GOOG.csv") else { return };
    let bars = read_csv(&path).unwrap();
    assert_eq!(bars.len(), 2148);
    assert_eq!(
        bars[0],
        Bar {
            time: BarTime::Date(day(2004, 8, 19)),
            open: 100.0,
            high: 104.06,
            low: 95.96,
            close: 100.34,
            volume: 22_351_900.0,
        }
    );
    assert_eq!(bars.last().unwrap().time, BarTime::Date(day(2013, 3, 1)));
    assert!(bars.iter().all(|b| matches!(b.time, BarTime::Date(_))));
}

#[test]
fn eurusd_hourly_file_reads_5000_timed_bars() {
    let Some(path) = data_file("EURUSD.csv") else { return };
    let bars = read_csv(&path).unwrap();
    assert_eq!(bars.len(), 5000);
    assert_eq!(bars[0].time.to_string(), "2017-04-19T09:00:00");
    assert_eq!(bars[0].close, 1.07219);
    assert_eq!(bars[0].volume, 1413.0);
    assert_eq!(bars.last().unwrap().time.to_string(), "2018-02-07T15:00:00");
}

#[test]
fn eurusd_cut_at_an_hour_ends_on_that_hour_whatever_the_offset_it_is_written_with() {
    let Some(path) = data_file("EURUSD.csv") else { return };
    let bars = read_csv(&path).unwrap();
    for raw in ["2017-06-14T14:00:00Z", "2017-06-14T16:00:00+02:00", "2017-06-14T14:59:59Z"] {
        let cutoff = Cutoff::Instant(raw.parse().unwrap());
        let history = bars_up_to(&bars, cutoff);
        assert_eq!(history.len(), 966, "{raw}");
        assert_eq!(history.last().unwrap().time.to_string(), "2017-06-14T14:00:00", "{raw}");
        assert_eq!(history.last().unwrap().close, 1.12793);
        assert_eq!(bars[history.len()].time.to_string(), "2017-06-14T15:00:00");
        let s = crate::indicators::compute(history).unwrap();
        assert_eq!(s.as_of, "2017-06-14T14:00:00");
        assert_eq!(s.bars_used, 966);
        assert_eq!(s.close, 1.12793);
    }
    // The day 2017-06-14 itself keeps all its hours, up to 23:00.
    let day_cut = bars_up_to(&bars, day(2017, 6, 14));
    assert_eq!(day_cut.len(), 975);
    assert_eq!(day_cut.last().unwrap().time.to_string(), "2017-06-14T23:00:00");
    // Before the first bar (09:00 on 2017-04-19), nothing.
    assert!(bars_up_to(&bars, Cutoff::Instant("2017-04-19T08:59:59Z".parse().unwrap())).is_empty());
}

#[test]
fn goog_cut_at_2010_06_01_ends_on_that_day_and_feeds_the_indicators() {
    let Some(path) = data_file("GOOG.csv") else { return };
    let bars = read_csv(&path).unwrap();
    let history = bars_up_to(&bars, day(2010, 6, 1));
    assert_eq!(history.last().unwrap().time, BarTime::Date(day(2010, 6, 1)));
    assert!(bars[history.len()].time.date() > day(2010, 6, 1));
    let s = crate::indicators::compute(history).unwrap();
    assert_eq!(s.as_of, "2010-06-01");
    assert_eq!(s.bars_used, 1456);
    // From a separate, deliberately naive Python implementation of the same conventions
    // (plain loops over the GOOG rows up to 2010-06-01), so a slip in either shows up here.
    let expected = [
        ("close", s.close, 482.37),
        ("sma_20", s.sma_20, 494.921_5),
        ("sma_50", s.sma_50, 532.260_4),
        ("sma_200", s.sma_200.unwrap(), 539.947_75),
        ("ema_12", s.ema_12, 488.299_612_324_302_2),
        ("ema_26", s.ema_26, 503.126_055_506_522_2),
        ("macd", s.macd, -14.826_443_182_220_03),
        ("macd_signal", s.macd_signal, -15.647_475_185_345_91),
        ("macd_histogram", s.macd_histogram, 0.821_032_003_125_875_3),
        ("rsi_14", s.rsi_14, 37.718_044_334_006_53),
        ("bollinger_upper", s.bollinger_upper, 523.848_975_710_818_6),
        ("bollinger_middle", s.bollinger_middle, 494.921_5),
        ("bollinger_lower", s.bollinger_lower, 465.994_024_289_181_4),
        ("atr_14", s.atr_14, 15.341_817_629_106_32),
        ("return_20", s.return_20, -0.090_897_097_625_329_83),
        ("volatility_20", s.volatility_20, 0.022_050_122_558_544_96),
    ];
    for (name, got, want) in expected {
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{name}: {got} vs {want}");
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = read_csv(Path::new("/nonexistent/GOOG.csv")).unwrap_err();
    assert!(err.to_string().starts_with("cannot read /nonexistent/GOOG.csv: "), "{err}");
}
