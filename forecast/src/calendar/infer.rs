//! Reading a series' spacing off its bar times.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, TimeDelta, Weekday};

use super::slots::SlotSet;
use super::{Calendar, Spacing};

const DAY_SECONDS: i64 = 86_400;

impl Calendar {
    /// Reads the spacing off `times` (at least 2 bars, strictly increasing; else `None`).
    ///
    /// The step is the most common gap between consecutive bars (ties: the smaller), so
    /// weekend and overnight gaps of a trading series do not count as its step.
    pub fn infer(times: &[NaiveDateTime]) -> Option<Calendar> {
        if times.len() < 2 {
            return None;
        }
        let mut gaps = BTreeMap::<i64, usize>::new();
        for pair in times.windows(2) {
            let gap = (pair[1] - pair[0]).num_seconds();
            if pair[1] <= pair[0] {
                return None;
            }
            *gaps.entry(gap).or_default() += 1;
        }
        // Ascending keys and a strict comparison: the smaller gap wins a tie.
        let mut step_seconds = 0;
        let mut best = 0;
        for (&gap, &count) in &gaps {
            if count > best {
                (step_seconds, best) = (gap, count);
            }
        }

        let mut weekdays = [false; 7];
        for t in times {
            weekdays[t.weekday().num_days_from_monday() as usize] = true;
        }
        let spacing = classify(step_seconds, &weekdays);
        let slots = match spacing {
            Spacing::Intraday { .. } => SlotSet::of(times),
            _ => SlotSet::default(),
        };
        let month_end = matches!(spacing, Spacing::Monthly | Spacing::Quarterly | Spacing::Yearly)
            && times.iter().all(|t| is_month_end(*t));
        Some(Calendar {
            spacing,
            step: TimeDelta::seconds(step_seconds),
            slots,
            weekdays,
            month_end,
        })
    }
}

/// The spacing of a step of `step_seconds` (positive) for a series on `weekdays`.
fn classify(step_seconds: i64, weekdays: &[bool; 7]) -> Spacing {
    if step_seconds < DAY_SECONDS {
        // Slots are minutes of the day: a sub-minute or ragged step cannot be held in them.
        return match u32::try_from(step_seconds / 60) {
            Ok(step_minutes) if step_seconds % 60 == 0 => Spacing::Intraday { step_minutes },
            _ => Spacing::Other { step_seconds },
        };
    }
    if step_seconds % DAY_SECONDS != 0 {
        return Spacing::Other { step_seconds };
    }
    match step_seconds / DAY_SECONDS {
        1 => {
            let weekend = [Weekday::Sat, Weekday::Sun]
                .iter()
                .any(|d| weekdays[d.num_days_from_monday() as usize]);
            Spacing::Daily { weekdays_only: !weekend }
        }
        7 => Spacing::Weekly,
        28..=31 => Spacing::Monthly,
        89..=92 => Spacing::Quarterly,
        365 | 366 => Spacing::Yearly,
        _ => Spacing::Other { step_seconds },
    }
}

/// Whether `t` falls on the last day of its month.
pub(super) fn is_month_end(t: NaiveDateTime) -> bool {
    t.date().succ_opt().is_some_and(|next| next.month() != t.month())
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::super::test_support::{at, day, every};
    use super::*;

    fn kind(times: &[NaiveDateTime]) -> Spacing {
        Calendar::infer(times).expect("a calendar").kind()
    }

    #[test]
    fn needs_two_strictly_increasing_bars() {
        assert_eq!(Calendar::infer(&[]), None);
        assert_eq!(Calendar::infer(&[day(2024, 1, 1)]), None);
        assert_eq!(Calendar::infer(&[day(2024, 1, 1), day(2024, 1, 1)]), None);
        assert_eq!(Calendar::infer(&[day(2024, 1, 2), day(2024, 1, 1)]), None);
        assert_eq!(Calendar::infer(&[day(2024, 1, 1), day(2024, 1, 3), day(2024, 1, 2)]), None);
    }

    #[test]
    fn hourly_equity_bars_are_intraday_despite_overnight_gaps() {
        // 09:30..15:30 for a week: 30 one-hour gaps against 4 overnight and no weekend gaps.
        let times =
            every(at(2024, 1, 1, 9, 30), at(2024, 1, 5, 15, 30), TimeDelta::hours(1), |t| {
                (9..=15).contains(&chrono::Timelike::hour(&t))
            });
        assert_eq!(kind(&times), Spacing::Intraday { step_minutes: 60 });
    }

    #[test]
    fn five_minute_bars_are_intraday() {
        let times =
            every(at(2024, 3, 4, 0, 0), at(2024, 3, 4, 6, 0), TimeDelta::minutes(5), |_| true);
        assert_eq!(kind(&times), Spacing::Intraday { step_minutes: 5 });
    }

    #[test]
    fn step_is_the_mode_and_a_tie_goes_to_the_smaller_gap() {
        // Gaps 2 h, 1 h: one each.
        let times = [at(2024, 1, 1, 0, 0), at(2024, 1, 1, 2, 0), at(2024, 1, 1, 3, 0)];
        assert_eq!(kind(&times), Spacing::Intraday { step_minutes: 60 });
        // Gaps 2 h, 1 h, 2 h: the mode is 2 h.
        let times = [times.as_slice(), &[at(2024, 1, 1, 5, 0)]].concat();
        assert_eq!(kind(&times), Spacing::Intraday { step_minutes: 120 });
    }

    #[test]
    fn sub_minute_and_ragged_steps_are_other() {
        let t0 = at(2024, 1, 1, 0, 0);
        let times = [t0, t0 + TimeDelta::seconds(30), t0 + TimeDelta::seconds(60)];
        assert_eq!(kind(&times), Spacing::Other { step_seconds: 30 });
        let times = [t0, t0 + TimeDelta::seconds(90), t0 + TimeDelta::seconds(180)];
        assert_eq!(kind(&times), Spacing::Other { step_seconds: 90 });
    }

    #[test]
    fn daily_stock_bars_are_weekdays_only() {
        // Two weeks of Monday..Friday (2024-01-01 is a Monday).
        let times = every(day(2024, 1, 1), day(2024, 1, 12), TimeDelta::days(1), |t| {
            t.weekday().num_days_from_monday() < 5
        });
        assert_eq!(kind(&times), Spacing::Daily { weekdays_only: true });
    }

    #[test]
    fn daily_crypto_bars_include_weekends() {
        let times = every(day(2024, 1, 1), day(2024, 1, 14), TimeDelta::days(1), |_| true);
        assert_eq!(kind(&times), Spacing::Daily { weekdays_only: false });
        // A single Saturday bar is enough to rule out a trading calendar.
        let times = every(day(2024, 1, 1), day(2024, 1, 6), TimeDelta::days(1), |_| true);
        assert_eq!(kind(&times), Spacing::Daily { weekdays_only: false });
    }

    #[test]
    fn weekly_monthly_quarterly_yearly_and_other_steps() {
        let weekly = every(day(2024, 1, 5), day(2024, 3, 1), TimeDelta::days(7), |_| true);
        assert_eq!(kind(&weekly), Spacing::Weekly);
        let monthly: Vec<_> = (1..=6).map(|m| day(2024, m, 1)).collect();
        assert_eq!(kind(&monthly), Spacing::Monthly);
        let quarterly: Vec<_> = [1, 4, 7, 10].into_iter().map(|m| day(2023, m, 1)).collect();
        assert_eq!(kind(&quarterly), Spacing::Quarterly);
        // Gaps 365 and 366 days (2024 is a leap year).
        let yearly = [day(2023, 6, 30), day(2024, 6, 30), day(2025, 6, 30)];
        assert_eq!(kind(&yearly), Spacing::Yearly);
        let two_days = every(day(2024, 1, 1), day(2024, 1, 21), TimeDelta::days(2), |_| true);
        assert_eq!(kind(&two_days), Spacing::Other { step_seconds: 2 * DAY_SECONDS });
        let days_and_hours = [day(2024, 1, 1), at(2024, 1, 2, 6, 0), at(2024, 1, 3, 12, 0)];
        assert_eq!(kind(&days_and_hours), Spacing::Other { step_seconds: DAY_SECONDS + 6 * 3600 });
    }

    #[test]
    fn month_ends_are_remembered_for_monthly_series_only() {
        let ends = [day(2024, 1, 31), day(2024, 2, 29), day(2024, 3, 31)];
        assert!(Calendar::infer(&ends).unwrap().month_end);
        let mid = [day(2024, 1, 15), day(2024, 2, 15), day(2024, 3, 15)];
        assert!(!Calendar::infer(&mid).unwrap().month_end);
        let daily = [day(2024, 1, 30), day(2024, 1, 31)];
        assert!(!Calendar::infer(&daily).unwrap().month_end);
    }
}
