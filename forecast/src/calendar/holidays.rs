//! NYSE full-day holidays, so a daily stock series does not "forecast" bars on days the
//! exchange is shut. Only the standing rules; one-off closures (national days of mourning,
//! storms) cannot be known in advance and are not listed.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Whether the NYSE is closed all day on `date` for a regular holiday (as observed). Looking
/// in `date`'s own year is enough: no observed day leaves its holiday's year (the one that
/// would, a Saturday New Year's Day, is not observed).
pub(super) fn is_nyse_holiday(date: NaiveDate) -> bool {
    nyse_holidays(date.year()).contains(&date)
}

/// The observed NYSE full-day holidays of `year` (ten, or nine when New Year's Day falls on a
/// Saturday or before Juneteenth was added in 2022).
pub(super) fn nyse_holidays(year: i32) -> Vec<NaiveDate> {
    let mut days = Vec::with_capacity(10);
    // NYSE rule: a Saturday New Year's Day is not observed on the Friday before (which
    // would fall in the old year, at its year-end close).
    let new_year = NaiveDate::from_ymd_opt(year, 1, 1).filter(|d| d.weekday() != Weekday::Sat);
    days.extend(new_year.and_then(observed));
    days.extend(nth_weekday(year, 1, Weekday::Mon, 3)); // Martin Luther King Jr. Day
    days.extend(nth_weekday(year, 2, Weekday::Mon, 3)); // Washington's Birthday
    days.extend(easter(year).and_then(|e| e.checked_sub_days(Days::new(2)))); // Good Friday
    days.extend(last_weekday(year, 5, Weekday::Mon)); // Memorial Day
    if year >= 2022 {
        days.extend(fixed(year, 6, 19)); // Juneteenth
    }
    days.extend(fixed(year, 7, 4)); // Independence Day
    days.extend(nth_weekday(year, 9, Weekday::Mon, 1)); // Labor Day
    days.extend(nth_weekday(year, 11, Weekday::Thu, 4)); // Thanksgiving
    days.extend(fixed(year, 12, 25)); // Christmas
    days
}

/// A fixed-date holiday as observed.
fn fixed(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day).and_then(observed)
}

/// A fixed-date holiday moved off the weekend: Saturday to the Friday before, Sunday to the
/// Monday after.
fn observed(date: NaiveDate) -> Option<NaiveDate> {
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

/// The `n`-th (1-based) `weekday` of `month`.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

/// The last `weekday` of `month`.
fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    nth_weekday(year, month, weekday, 5).or_else(|| nth_weekday(year, month, weekday, 4))
}

/// Easter Sunday by the anonymous Gregorian computus (Meeus/Jones/Butcher).
pub(super) fn easter(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_known_dates() {
        for (y, m, day) in [
            (1818, 3, 22), // earliest possible
            (1943, 4, 25), // latest possible
            (2000, 4, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2038, 4, 25),
        ] {
            assert_eq!(easter(y), Some(d(y, m, day)), "{y}");
        }
    }

    #[test]
    fn nyse_2024_and_2025_schedules() {
        // As published by the NYSE (regular holidays only).
        let y2024 = [
            (1, 1),
            (1, 15),
            (2, 19),
            (3, 29),
            (5, 27),
            (6, 19),
            (7, 4),
            (9, 2),
            (11, 28),
            (12, 25),
        ];
        assert_eq!(nyse_holidays(2024), y2024.map(|(m, day)| d(2024, m, day)));
        let y2025 = [
            (1, 1),
            (1, 20),
            (2, 17),
            (4, 18),
            (5, 26),
            (6, 19),
            (7, 4),
            (9, 1),
            (11, 27),
            (12, 25),
        ];
        assert_eq!(nyse_holidays(2025), y2025.map(|(m, day)| d(2025, m, day)));
    }

    #[test]
    fn weekend_fixed_dates_are_observed_on_the_nearest_weekday() {
        assert!(is_nyse_holiday(d(2026, 7, 3)), "July 4 2026 is a Saturday");
        assert!(!is_nyse_holiday(d(2026, 7, 4)));
        assert!(is_nyse_holiday(d(2022, 12, 26)), "Christmas 2022 is a Sunday");
        assert!(is_nyse_holiday(d(2022, 6, 20)), "Juneteenth 2022 is a Sunday");
        assert!(is_nyse_holiday(d(2023, 1, 2)), "New Year's Day 2023 is a Sunday");
        assert!(is_nyse_holiday(d(2021, 12, 24)), "Christmas 2021 is a Saturday");
    }

    #[test]
    fn saturday_new_year_is_not_observed_and_juneteenth_starts_in_2022() {
        // 2022-01-01 is a Saturday: the NYSE stays open on Friday 2021-12-31.
        assert!(!is_nyse_holiday(d(2021, 12, 31)));
        assert_eq!(nyse_holidays(2022).len(), 9);
        // 2021-06-19 is a Saturday, but Juneteenth was not yet an NYSE holiday.
        assert!(!is_nyse_holiday(d(2021, 6, 18)));
        assert!(is_nyse_holiday(d(2024, 6, 19)));
    }
}
