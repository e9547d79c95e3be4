//! `bars_up_to` at an instant: intraday bars up to it, daily bars only once their day is over.

use chrono::{DateTime, Utc};

use super::*;

fn at(raw: &str) -> Cutoff {
    Cutoff::Instant(raw.parse::<DateTime<Utc>>().unwrap())
}

fn hourly() -> Vec<Bar> {
    [
        "2017-04-18 23:00",
        "2017-04-19 00:00",
        "2017-04-19 09:00",
        "2017-04-19 10:00",
        "2017-04-20 00:00",
    ]
    .iter()
    .map(|t| bar(t, 1.1))
    .collect()
}

#[test]
fn an_instant_keeps_the_intraday_bars_stamped_at_or_before_it_and_none_after() {
    let bars = hourly();
    assert_eq!(bars_up_to(&bars, at("2017-04-19T09:00:00Z")), &bars[..3]);
    assert_eq!(bars_up_to(&bars, at("2017-04-19T09:59:59.999Z")), &bars[..3]);
    assert_eq!(bars_up_to(&bars, at("2017-04-19T10:00:00Z")), &bars[..4]);
    assert_eq!(bars_up_to(&bars, at("2017-04-19T08:59:59Z")), &bars[..2]);
    assert_eq!(bars_up_to(&bars, at("2017-04-19T23:59:59Z")), &bars[..4]);
    assert_eq!(bars_up_to(&bars, at("2030-01-01T00:00:00Z")), &bars[..]);
}

#[test]
fn an_instant_before_the_first_bar_keeps_nothing() {
    let bars = hourly();
    assert!(bars_up_to(&bars, at("2017-04-18T22:59:59Z")).is_empty());
    assert!(bars_up_to(&[], at("2017-04-18T22:59:59Z")).is_empty());
}

#[test]
fn a_day_still_keeps_every_intraday_bar_of_that_day() {
    let bars = hourly();
    assert_eq!(bars_up_to(&bars, Cutoff::Day(day(2017, 4, 19))), &bars[..4]);
    assert_eq!(bars_up_to(&bars, day(2017, 4, 19)), &bars[..4]);
}

#[test]
fn a_daily_bar_is_known_only_once_its_day_is_over() {
    let bars = vec![bar("2010-05-27", 1.0), bar("2010-05-28", 2.0), bar("2010-06-01", 3.0)];
    // During 05-28 its daily bar (whose close is that evening's) is not known yet.
    assert_eq!(bars_up_to(&bars, at("2010-05-28T00:00:00Z")), &bars[..1]);
    assert_eq!(bars_up_to(&bars, at("2010-05-28T23:59:59.999999999Z")), &bars[..1]);
    // From midnight on, it is.
    assert_eq!(bars_up_to(&bars, at("2010-05-29T00:00:00Z")), &bars[..2]);
    assert_eq!(bars_up_to(&bars, at("2010-06-01T12:00:00Z")), &bars[..2]);
    assert_eq!(bars_up_to(&bars, at("2010-06-02T00:00:00Z")), &bars[..]);
    // As of the day itself, the day's bar is in (the analysis is as of its close).
    assert_eq!(bars_up_to(&bars, day(2010, 5, 28)), &bars[..2]);
}

#[test]
fn with_daily_and_intraday_bars_mixed_nothing_after_an_unknown_bar_is_kept() {
    // The daily bar of 05-28 is not known at 10:00 that day, so neither is the 09:00 bar
    // after it in the series: the cut never leaves a gap.
    let bars = vec![bar("2010-05-27", 1.0), bar("2010-05-28", 2.0), bar("2010-05-28 09:00", 3.0)];
    assert_eq!(bars_up_to(&bars, at("2010-05-28T10:00:00Z")), &bars[..1]);
    assert_eq!(bars_up_to(&bars, at("2010-05-29T00:00:00Z")), &bars[..]);
}

#[test]
fn a_cutoff_prints_as_a_day_or_an_instant_in_utc_and_knows_its_last_closed_day() {
    assert_eq!(Cutoff::Day(day(2024, 3, 5)).to_string(), "2024-03-05");
    assert_eq!(at("2024-03-05T15:00:00+01:00").to_string(), "2024-03-05T14:00:00Z");
    assert_eq!(at("2024-03-05T14:00:00.25Z").to_string(), "2024-03-05T14:00:00.250Z");
    assert_eq!(Cutoff::Day(day(2024, 3, 5)).last_closed_day(), day(2024, 3, 5));
    assert_eq!(at("2024-03-05T14:00:00Z").last_closed_day(), day(2024, 3, 4));
    assert_eq!(at("2024-03-05T00:00:00Z").last_closed_day(), day(2024, 3, 4));
}
