use super::*;

#[test]
fn a_plain_date_parses_as_a_date_and_prints_back_the_same() {
    let t: BarTime = "2010-05-28".parse().unwrap();
    assert_eq!(t, BarTime::Date(day(2010, 5, 28)));
    assert_eq!(t.to_string(), "2010-05-28");
}

#[test]
fn pandas_style_and_iso_date_times_parse_to_the_same_time() {
    let expected = BarTime::DateTime(day(2017, 4, 19).and_hms_opt(9, 0, 0).unwrap());
    for raw in
        ["2017-04-19 09:00:00", "2017-04-19T09:00:00", "2017-04-19 09:00", "2017-04-19T09:00"]
    {
        assert_eq!(raw.parse::<BarTime>().unwrap(), expected, "{raw}");
    }
    assert_eq!(expected.to_string(), "2017-04-19T09:00:00");
}

#[test]
fn offsets_are_converted_to_utc_and_dropped() {
    let expected = BarTime::DateTime(day(2017, 4, 19).and_hms_opt(9, 0, 0).unwrap());
    for raw in [
        "2017-04-19T11:00:00+02:00",
        "2017-04-19T09:00:00Z",
        "2017-04-19 09:00:00+00:00",
        "2017-04-19T04:00:00-0500",
    ] {
        assert_eq!(raw.parse::<BarTime>().unwrap(), expected, "{raw}");
    }
}

#[test]
fn an_offset_can_move_a_time_onto_the_previous_utc_day() {
    let t: BarTime = "2017-04-19T01:00:00+02:00".parse().unwrap();
    assert_eq!(t.date(), day(2017, 4, 18));
}

#[test]
fn fractional_seconds_are_kept_and_printed_only_when_present() {
    let t: BarTime = "2017-04-19 09:00:00.250".parse().unwrap();
    assert_eq!(t.to_string(), "2017-04-19T09:00:00.250");
}

#[test]
fn nonsense_and_impossible_dates_are_rejected_with_the_expected_forms() {
    for raw in ["", "yesterday", "2017-13-01", "2017-02-30", "19/04/2017", "2017-04-19 25:00"] {
        let err = raw.parse::<BarTime>().unwrap_err();
        assert!(err.to_string().contains("YYYY-MM-DD"), "{raw}: {err}");
    }
}

#[test]
fn date_of_a_date_time_is_its_calendar_day_and_a_date_orders_as_midnight() {
    let t: BarTime = "2017-04-19 23:59".parse().unwrap();
    assert_eq!(t.date(), day(2017, 4, 19));
    let d = BarTime::Date(day(2017, 4, 19));
    assert_eq!(d.to_datetime(), day(2017, 4, 19).and_hms_opt(0, 0, 0).unwrap());
}

#[test]
fn bar_time_serialises_as_a_json_string() {
    let t: BarTime = "2017-04-19 09:00".parse().unwrap();
    assert_eq!(serde_json::to_string(&t).unwrap(), "\"2017-04-19T09:00:00\"");
    let back: BarTime = serde_json::from_str("\"2017-04-19T09:00:00\"").unwrap();
    assert_eq!(back, t);
    assert!(serde_json::from_str::<BarTime>("20170419").is_err());
}

#[test]
fn bar_time_is_a_string_in_the_openapi_schema() {
    let schema = serde_json::to_value(<BarTime as utoipa::PartialSchema>::schema()).unwrap();
    assert_eq!(schema["type"], "string");
}
