//! Which header shapes the CSV reader understands.

use super::*;

const ROWS: &str = "2024-01-02,10,12,9,11,1000\n2024-01-03,11,13,10.5,12.5,2000\n";

fn expected() -> Vec<Bar> {
    vec![
        Bar {
            time: BarTime::Date(day(2024, 1, 2)),
            open: 10.0,
            high: 12.0,
            low: 9.0,
            close: 11.0,
            volume: 1000.0,
        },
        Bar {
            time: BarTime::Date(day(2024, 1, 3)),
            open: 11.0,
            high: 13.0,
            low: 10.5,
            close: 12.5,
            volume: 2000.0,
        },
    ]
}

#[test]
fn an_unnamed_first_column_is_the_time_as_pandas_writes_it() {
    assert_eq!(read(&format!(",Open,High,Low,Close,Volume\n{ROWS}")).unwrap(), expected());
}

#[test]
fn the_time_column_may_be_called_date_time_timestamp_or_datetime_in_any_case() {
    for name in ["Date", "date", "TIME", "Timestamp", "TIMESTAMP", "datetime", "DateTime"] {
        let text = format!("{name},Open,High,Low,Close,Volume\n{ROWS}");
        assert_eq!(read(&text).unwrap(), expected(), "{name}");
    }
}

#[test]
fn price_columns_are_found_by_name_in_any_case() {
    let text = format!("date,OPEN,high,Low,cLoSe,volume\n{ROWS}");
    assert_eq!(read(&text).unwrap(), expected());
}

#[test]
fn columns_may_come_in_any_order() {
    let text = "close,volume,TIME,low,open,high\n\
                11,1000,2024-01-02,9,10,12\n\
                12.5,2000,2024-01-03,10.5,11,13\n";
    assert_eq!(read(text).unwrap(), expected());
}

#[test]
fn extra_columns_are_ignored_even_with_quoted_commas() {
    let text = "Date,Note,Open,High,Low,Close,Adj Close,Volume,Dividends\n\
                2024-01-02,\"split, 2:1\",10,12,9,11,10.9,1000,0\n\
                2024-01-03,,11,13,10.5,12.5,12.4,2000,0\n";
    assert_eq!(read(text).unwrap(), expected());
}

#[test]
fn a_named_time_column_wins_over_an_unnamed_index_column() {
    let text = ",Date,Open,High,Low,Close,Volume\n\
                0,2024-01-02,10,12,9,11,1000\n\
                1,2024-01-03,11,13,10.5,12.5,2000\n";
    assert_eq!(read(text).unwrap(), expected());
}

#[test]
fn a_file_without_volume_reads_as_zero_volume() {
    let text = "Date,Open,High,Low,Close\n2024-01-02,10,12,9,11\n";
    let bars = read(text).unwrap();
    assert_eq!(bars[0].volume, 0.0);
}

#[test]
fn a_byte_order_mark_crlf_line_ends_and_padding_are_tolerated() {
    let text = "\u{feff}Date , Open,High,Low,Close,Volume\r\n\
                2024-01-02, 10 ,12,9,11,1000\r\n2024-01-03,11,13,10.5,12.5,2000\r\n";
    assert_eq!(read(text).unwrap(), expected());
}

#[test]
fn date_times_are_read_as_date_times() {
    let text =
        ",Open,High,Low,Close,Volume\n2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413\n";
    let bars = read(text).unwrap();
    assert_eq!(bars[0].time.to_string(), "2017-04-19T09:00:00");
}

#[test]
fn a_header_without_a_time_column_is_an_error_on_line_1() {
    let (line, message) = parse_error(read(&format!("Open,High,Low,Close,Volume,Extra\n{ROWS}")));
    assert_eq!(line, 1);
    assert!(message.starts_with("no time column"), "{message}");
}

#[test]
fn two_time_columns_are_ambiguous() {
    let (line, message) = parse_error(read("Date,Time,Open,High,Low,Close\n"));
    assert_eq!(line, 1);
    assert!(message.contains("more than one time column"), "{message}");
}

#[test]
fn a_missing_price_column_is_named() {
    let (line, message) = parse_error(read("Date,Open,High,Low,Volume\n2024-01-02,1,1,1,1\n"));
    assert_eq!(line, 1);
    assert!(message.starts_with("no Close column"), "{message}");
}

#[test]
fn a_repeated_price_column_is_an_error() {
    let (_, message) = parse_error(read("Date,Open,High,Low,Close,close\n"));
    assert!(message.contains("more than one Close column"), "{message}");
}

#[test]
fn an_empty_file_lacks_a_header() {
    let (line, message) = parse_error(read(""));
    assert_eq!(line, 1);
    assert!(message.contains("header"), "{message}");
}

#[test]
fn a_header_without_rows_has_no_bars() {
    let err = read("Date,Open,High,Low,Close,Volume\n").unwrap_err();
    assert!(matches!(err, MarketDataError::Invalid { .. }), "{err:?}");
    assert_eq!(err.to_string(), "test.csv: no bars: the file has no data rows");
}
