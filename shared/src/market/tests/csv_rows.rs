//! Bad rows: each error names its line (the header is line 1).

use super::*;

const HEADER: &str = "Date,Open,High,Low,Close,Volume\n";
const GOOD: &str = "2024-01-02,10,12,9,11,1000\n";

fn with_bad_third_line(row: &str) -> (u64, String) {
    parse_error(read(&format!("{HEADER}{GOOD}{row}\n")))
}

#[test]
fn a_non_numeric_price_names_the_column_and_the_line() {
    let (line, message) = with_bad_third_line("2024-01-03,11,13,10,abc,2000");
    assert_eq!(line, 3);
    assert_eq!(message, "Close is not a number: \"abc\"");
}

#[test]
fn a_short_row_says_which_column_is_missing() {
    let (line, message) = with_bad_third_line("2024-01-03,11,13,10");
    assert_eq!(line, 3);
    assert_eq!(message, "no Close value: the row has 4 fields, the header 6");
}

#[test]
fn nan_and_infinite_values_are_rejected() {
    for value in ["NaN", "nan", "inf", "-inf"] {
        let (line, message) = with_bad_third_line(&format!("2024-01-03,11,13,10,{value},2000"));
        assert_eq!(line, 3);
        assert!(message.contains("not a finite number"), "{value}: {message}");
    }
}

#[test]
fn an_empty_cell_is_rejected() {
    let (line, message) = with_bad_third_line("2024-01-03,11,13,10,12,");
    assert_eq!((line, message.as_str()), (3, "Volume is empty"));
}

#[test]
fn an_unreadable_time_is_rejected() {
    let (line, message) = with_bad_third_line("03/01/2024,11,13,10,12,2000");
    assert_eq!(line, 3);
    assert!(message.starts_with("invalid time \"03/01/2024\""), "{message}");
}

#[test]
fn rows_out_of_order_point_at_both_lines() {
    let (line, message) = with_bad_third_line("2024-01-01,11,13,10,12,2000");
    assert_eq!(line, 3);
    assert!(message.contains("2024-01-01 is not after 2024-01-02 on line 2"), "{message}");
}

#[test]
fn a_repeated_time_is_out_of_order() {
    let (line, message) = with_bad_third_line("2024-01-02,11,13,10,12,2000");
    assert_eq!(line, 3);
    assert!(message.contains("is not after"), "{message}");
}

#[test]
fn a_bar_whose_high_is_below_its_close_is_rejected() {
    let (line, message) = with_bad_third_line("2024-01-03,11,12,10,12.5,2000");
    assert_eq!(line, 3);
    assert!(message.starts_with("invalid bar: high: must be at least"), "{message}");
}

#[test]
fn zero_prices_and_negative_volume_are_rejected() {
    let (_, message) = with_bad_third_line("2024-01-03,0,13,0,12,2000");
    assert!(message.starts_with("invalid bar: open:"), "{message}");
    let (_, message) = with_bad_third_line("2024-01-03,11,13,10,12,-5");
    assert!(message.starts_with("invalid bar: volume:"), "{message}");
}

#[test]
fn line_numbers_count_blank_lines() {
    let text = format!("{HEADER}{GOOD}\n2024-01-03,11,13,10,oops,2000\n");
    let (line, _) = parse_error(read(&text));
    assert_eq!(line, 4);
}

#[test]
fn the_error_message_reads_origin_line_and_problem() {
    let err = read(&format!("{HEADER}{GOOD}2024-01-03,11,13,10,abc,2000\n")).unwrap_err();
    assert_eq!(err.to_string(), "test.csv line 3: Close is not a number: \"abc\"");
    assert!(err.is_permanent());
}

#[test]
fn invalid_utf8_is_a_parse_error_with_a_line() {
    let mut bytes = format!("{HEADER}{GOOD}").into_bytes();
    bytes.extend_from_slice(b"2024-01-03,11,13,10,\xff,2000\n");
    let err = read_csv_from(&bytes[..], "test.csv").unwrap_err();
    assert!(matches!(err, MarketDataError::Parse { line: 3, .. }), "{err:?}");
}
