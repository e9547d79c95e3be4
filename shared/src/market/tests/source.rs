//! `DataSource`: JSON shape and validation, one test per rule.

use serde_json::json;

use super::*;

fn csv(path: &str) -> DataSource {
    DataSource::Csv { path: path.to_owned() }
}

fn inline(bars: Vec<Bar>) -> DataSource {
    DataSource::Inline { bars }
}

fn rejected(source: &DataSource) -> (String, String) {
    let err = source.validate().expect_err("should be rejected");
    (err.field, err.message)
}

fn three_days() -> Vec<Bar> {
    vec![bar("2024-01-02", 10.0), bar("2024-01-03", 11.0), bar("2024-01-04", 12.0)]
}

#[test]
fn a_csv_source_deserialises_from_its_documented_json() {
    let source: DataSource =
        serde_json::from_value(json!({"source": "csv", "path": "GOOG.csv"})).unwrap();
    assert_eq!(source, csv("GOOG.csv"));
    assert_eq!(
        serde_json::to_value(&source).unwrap(),
        json!({"source": "csv", "path": "GOOG.csv"})
    );
}

#[test]
fn an_inline_source_deserialises_with_dates_and_date_times() {
    let source: DataSource = serde_json::from_value(json!({"source": "inline", "bars": [
        {"time": "2010-05-28", "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10},
        {"time": "2010-05-31 09:30", "open": 1.5, "high": 2.0, "low": 1.0, "close": 1.8},
    ]}))
    .unwrap();
    let DataSource::Inline { bars } = &source else { panic!("{source:?}") };
    assert_eq!(bars[0].time, BarTime::Date(day(2010, 5, 28)));
    assert_eq!(bars[1].time.to_string(), "2010-05-31T09:30:00");
    assert_eq!(bars[1].volume, 0.0, "volume may be left out");
    assert!(source.validate().is_ok());
}

#[test]
fn an_unknown_source_is_refused() {
    let err = serde_json::from_value::<DataSource>(json!({"source": "yahoo", "symbol": "GOOG"}))
        .unwrap_err();
    assert!(err.to_string().contains("unknown variant `yahoo`"), "{err}");
}

#[test]
fn a_missing_source_tag_is_refused() {
    assert!(serde_json::from_value::<DataSource>(json!({"path": "GOOG.csv"})).is_err());
}

#[test]
fn an_unknown_field_is_refused_in_the_source_and_in_a_bar() {
    let err = serde_json::from_value::<DataSource>(
        json!({"source": "csv", "path": "GOOG.csv", "sep": ";"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `sep`"), "{err}");
    let err = serde_json::from_value::<DataSource>(json!({"source": "inline", "bars": [
        {"time": "2010-05-28", "open": 1, "high": 2, "low": 0.5, "close": 1.5, "adj_close": 1.4},
    ]}))
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `adj_close`"), "{err}");
}

#[test]
fn a_bar_with_an_unreadable_time_is_refused_when_deserialising() {
    let err = serde_json::from_value::<DataSource>(json!({"source": "inline", "bars": [
        {"time": "28/05/2010", "open": 1, "high": 2, "low": 0.5, "close": 1.5},
    ]}))
    .unwrap_err();
    assert!(err.to_string().contains("invalid time"), "{err}");
}

#[test]
fn relative_csv_paths_inside_the_data_directory_are_accepted() {
    for path in ["GOOG.csv", "prices/daily/GOOG.CSV", "./EURUSD.csv", "BRK.B.csv", "^GSPC.csv"] {
        assert_eq!(csv(path).validate(), Ok(()), "{path}");
    }
}

#[test]
fn an_empty_path_is_refused() {
    assert_eq!(rejected(&csv("")).0, "path");
    assert_eq!(rejected(&csv("  ")).1, "must not be empty");
}

#[test]
fn an_absolute_path_is_refused() {
    let (field, message) = rejected(&csv("/etc/passwd.csv"));
    assert_eq!(field, "path");
    assert!(message.contains("not absolute"), "{message}");
}

#[test]
fn a_path_climbing_out_with_dot_dot_is_refused() {
    for path in ["../secret.csv", "a/../../b.csv", "..", "prices/.."] {
        let (field, message) = rejected(&csv(path));
        assert_eq!(field, "path");
        assert!(message.contains(".."), "{path}: {message}");
    }
}

#[test]
fn backslashes_drive_letters_and_urls_are_refused() {
    for path in ["..\\secret.csv", "C:/data/GOOG.csv", "https://example.com/GOOG.csv"] {
        let (_, message) = rejected(&csv(path));
        assert!(message.contains("no \\ or :"), "{path}: {message}");
    }
}

#[test]
fn a_path_that_is_not_a_csv_file_is_refused() {
    for path in ["GOOG.txt", "GOOG", ".csv", "prices/.csv", "GOOG.csv/", "config.toml"] {
        assert_eq!(rejected(&csv(path)).1, "must name a .csv file", "{path}");
    }
}

#[test]
fn control_characters_and_very_long_paths_are_refused() {
    assert!(rejected(&csv("GOOG\0.csv")).1.contains("control"));
    let long = format!("{}.csv", "a".repeat(300));
    assert!(rejected(&csv(&long)).1.contains("at most 255"));
}

#[test]
fn inline_bars_must_not_be_empty() {
    assert_eq!(rejected(&inline(vec![])), ("bars".into(), "must contain at least one bar".into()));
}

#[test]
fn inline_bars_are_limited_to_fifty_thousand() {
    let start = day(1900, 1, 1);
    let bars: Vec<Bar> = start
        .iter_days()
        .take(MAX_INLINE_BARS + 1)
        .map(|d| Bar { time: BarTime::Date(d), ..bar("2000-01-01", 10.0) })
        .collect();
    assert_eq!(inline(bars[..MAX_INLINE_BARS].to_vec()).validate(), Ok(()));
    let (field, message) = rejected(&inline(bars));
    assert_eq!(field, "bars");
    assert!(message.contains("at most 50000 bars, got 50001"), "{message}");
}

#[test]
fn a_non_positive_or_non_finite_price_names_the_bar_and_the_field() {
    for value in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut bars = three_days();
        bars[2].close = value;
        let (field, message) = rejected(&inline(bars));
        assert_eq!(field, "bars[2].close", "{value}");
        assert!(message.contains("finite price greater than 0"), "{message}");
    }
}

#[test]
fn high_must_cover_open_and_close() {
    let mut bars = three_days();
    bars[1].high = bars[1].close - 0.5;
    let (field, message) = rejected(&inline(bars));
    assert_eq!(field, "bars[1].high");
    assert!(message.contains("at least max(open, close)"), "{message}");
}

#[test]
fn low_must_be_under_open_and_close() {
    let mut bars = three_days();
    bars[0].low = bars[0].open + 0.5;
    bars[0].high = bars[0].low + 1.0;
    assert_eq!(rejected(&inline(bars)).0, "bars[0].low");
}

#[test]
fn volume_must_be_finite_and_not_negative() {
    let mut bars = three_days();
    bars[1].volume = -1.0;
    assert_eq!(rejected(&inline(bars.clone())).0, "bars[1].volume");
    bars[1].volume = f64::NAN;
    assert_eq!(rejected(&inline(bars)).0, "bars[1].volume");
}

#[test]
fn inline_bars_must_strictly_increase_in_time() {
    let mut bars = three_days();
    bars.swap(1, 2);
    let (field, message) = rejected(&inline(bars));
    assert_eq!(field, "bars[2].time");
    assert!(message.contains("must be after bars[1].time (2024-01-04)"), "{message}");
    let repeated = vec![bar("2024-01-02", 10.0), bar("2024-01-02", 10.0)];
    assert_eq!(rejected(&inline(repeated)).0, "bars[1].time");
}

#[test]
fn errors_nest_under_the_parent_field() {
    let err = csv("/abs.csv").validate().unwrap_err().within("input.data");
    assert_eq!(err.field, "input.data.path");
}

#[test]
fn the_openapi_schema_names_both_sources() {
    let schema = serde_json::to_string(&<DataSource as utoipa::PartialSchema>::schema()).unwrap();
    assert!(schema.contains("\"csv\"") && schema.contains("\"inline\""), "{schema}");
}
