//! The bar times that follow a series' last bar, in the series' own spacing.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeDelta};

use super::holidays::is_nyse_holiday;
use super::{Calendar, Spacing};

/// How long intraday stepping looks for a seen slot before assuming the slots no longer
/// line up with the step (a last bar off the series' grid) and stepping plainly.
const SLOT_SEARCH: TimeDelta = TimeDelta::days(14);
/// How far daily stepping looks for an open day; only a pathological weekday set gets here.
const DAY_SEARCH: u64 = 366;

impl Calendar {
    /// The `n` bar times after `last`, continuing the series' own spacing: intraday bars only
    /// in the (weekday, minute) slots the series used, daily bars only on its weekdays (and,
    /// for a weekdays-only series, not on NYSE holidays), monthly and coarser bars on the same
    /// day of month (clamped to the month's end, or on month ends for a month-end series).
    ///
    /// Fewer than `n` only where the times would leave chrono's range.
    pub fn next_times(&self, last: NaiveDateTime, n: usize) -> Vec<NaiveDateTime> {
        match self.spacing {
            Spacing::Intraday { .. } => self.next_intraday(last, n),
            Spacing::Daily { weekdays_only } => self.next_daily(last, n, weekdays_only),
            Spacing::Monthly => self.next_months(last, n, 1),
            Spacing::Quarterly => self.next_months(last, n, 3),
            Spacing::Yearly => self.next_months(last, n, 12),
            Spacing::Weekly | Spacing::Other { .. } => plain(last, n, self.step),
        }
    }

    fn next_intraday(&self, last: NaiveDateTime, n: usize) -> Vec<NaiveDateTime> {
        let mut out = Vec::with_capacity(n);
        let mut t = last;
        // Once a search fails it would fail again from every later instant on the same grid.
        let mut plain = false;
        while out.len() < n {
            let found = if plain { None } else { self.next_slot(t) };
            let next = match found {
                Some(next) => next,
                None => {
                    plain = true;
                    let Some(next) = t.checked_add_signed(self.step) else { break };
                    next
                }
            };
            out.push(next);
            t = next;
        }
        out
    }

    /// The first instant `from + k·step` (k ≥ 1) in a seen slot, within [`SLOT_SEARCH`].
    fn next_slot(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut t = from.checked_add_signed(self.step)?;
        while t - from <= SLOT_SEARCH {
            if self.slots.contains(t) {
                return Some(t);
            }
            t = t.checked_add_signed(self.step)?;
        }
        None
    }

    fn next_daily(&self, last: NaiveDateTime, n: usize, weekdays_only: bool) -> Vec<NaiveDateTime> {
        let open = |d: NaiveDate| {
            self.weekdays[d.weekday().num_days_from_monday() as usize]
                && !(weekdays_only && is_nyse_holiday(d))
        };
        let mut out = Vec::with_capacity(n);
        let mut t = last;
        while out.len() < n {
            let Some(mut next) = t.checked_add_days(Days::new(1)) else { break };
            for _ in 0..DAY_SEARCH {
                if open(next.date()) {
                    break;
                }
                let Some(later) = next.checked_add_days(Days::new(1)) else { return out };
                next = later;
            }
            out.push(next);
            t = next;
        }
        out
    }

    /// `last` plus k·`months` for k = 1..=n, each from `last` so a clamped day (Jan 31 to
    /// Feb 29) does not drag the later ones (Mar 31, not Mar 29).
    fn next_months(&self, last: NaiveDateTime, n: usize, months: u32) -> Vec<NaiveDateTime> {
        let mut out = Vec::with_capacity(n);
        for k in 1..=n {
            let Some(next) = u32::try_from(k)
                .ok()
                .and_then(|k| k.checked_mul(months))
                .and_then(|m| last.checked_add_months(Months::new(m)))
            else {
                break;
            };
            let next = if self.month_end { month_end(next) } else { Some(next) };
            let Some(next) = next else { break };
            out.push(next);
        }
        out
    }
}

/// `last + k·step` for k = 1..=n.
fn plain(last: NaiveDateTime, n: usize, step: TimeDelta) -> Vec<NaiveDateTime> {
    let mut out = Vec::with_capacity(n);
    let mut t = last;
    while out.len() < n {
        let Some(next) = t.checked_add_signed(step) else { break };
        out.push(next);
        t = next;
    }
    out
}

/// The last day of `t`'s month, at `t`'s time of day.
fn month_end(t: NaiveDateTime) -> Option<NaiveDateTime> {
    let first = t.with_day(1)?;
    first.checked_add_months(Months::new(1))?.checked_sub_days(Days::new(1))
}

#[cfg(test)]
mod tests {
    use chrono::{Timelike, Weekday};

    use super::super::test_support::{at, day, every};
    use super::*;

    fn calendar(times: &[NaiveDateTime]) -> Calendar {
        Calendar::infer(times).expect("a calendar")
    }

    /// Two weeks of daily bars on Monday..Friday (2024-01-01 is a Monday).
    fn stock_daily() -> Calendar {
        let times = every(day(2024, 1, 1), day(2024, 1, 12), TimeDelta::days(1), |t| {
            t.weekday().num_days_from_monday() < 5
        });
        calendar(&times)
    }

    /// Hourly equity bars 09:30..15:30, Monday..Friday, for two weeks.
    fn equity_hourly() -> Calendar {
        let times =
            every(at(2024, 1, 1, 9, 30), at(2024, 1, 12, 15, 30), TimeDelta::hours(1), |t| {
                t.weekday().num_days_from_monday() < 5 && (9..=15).contains(&t.hour())
            });
        calendar(&times)
    }

    #[test]
    fn fx_hourly_monday_to_friday_skips_the_weekend() {
        // Round the clock Monday 00:00 .. Friday 23:00, two weeks.
        let times = every(at(2024, 1, 1, 0, 0), at(2024, 1, 12, 23, 0), TimeDelta::hours(1), |t| {
            t.weekday().num_days_from_monday() < 5
        });
        let next = calendar(&times).next_times(at(2024, 1, 12, 23, 0), 3);
        assert_eq!(next, [at(2024, 1, 15, 0, 0), at(2024, 1, 15, 1, 0), at(2024, 1, 15, 2, 0)]);
    }

    #[test]
    fn fx_hourly_sunday_open_resumes_at_the_sunday_open() {
        // Sunday 22:00 .. Friday 21:00 (2024-01-07 is a Sunday).
        let times =
            every(at(2024, 1, 7, 22, 0), at(2024, 1, 12, 21, 0), TimeDelta::hours(1), |_| true);
        let next = calendar(&times).next_times(at(2024, 1, 12, 21, 0), 4);
        let expected = [
            at(2024, 1, 14, 22, 0),
            at(2024, 1, 14, 23, 0),
            at(2024, 1, 15, 0, 0),
            at(2024, 1, 15, 1, 0),
        ];
        assert_eq!(next, expected);
    }

    #[test]
    fn equity_hourly_jumps_to_the_next_session_and_over_the_weekend() {
        let cal = equity_hourly();
        // Wednesday 14:30: one more bar today, then Thursday's session.
        let next = cal.next_times(at(2024, 1, 17, 14, 30), 3);
        assert_eq!(
            next,
            [at(2024, 1, 17, 15, 30), at(2024, 1, 18, 9, 30), at(2024, 1, 18, 10, 30)]
        );
        // Friday 15:30: Monday 09:30.
        let next = cal.next_times(at(2024, 1, 19, 15, 30), 8);
        assert_eq!(next[0], at(2024, 1, 22, 9, 30));
        assert_eq!(next[6], at(2024, 1, 22, 15, 30));
        assert_eq!(next[7], at(2024, 1, 23, 9, 30));
    }

    #[test]
    fn intraday_off_grid_last_bar_falls_back_to_plain_steps() {
        // The slots are at :30; from 10:17 no step of one hour ever lands on one.
        let next = equity_hourly().next_times(at(2024, 1, 17, 10, 17), 3);
        assert_eq!(
            next,
            [at(2024, 1, 17, 11, 17), at(2024, 1, 17, 12, 17), at(2024, 1, 17, 13, 17)]
        );
    }

    #[test]
    fn stock_daily_skips_weekends_and_new_year() {
        let next = stock_daily().next_times(day(2024, 12, 31), 3);
        assert_eq!(next, [day(2025, 1, 2), day(2025, 1, 3), day(2025, 1, 6)]);
    }

    #[test]
    fn stock_daily_skips_nyse_holidays_as_observed() {
        let cal = stock_daily();
        let first = |last| cal.next_times(last, 1)[0];
        assert_eq!(first(day(2025, 4, 17)), day(2025, 4, 21), "Good Friday 2025");
        assert_eq!(first(day(2024, 11, 27)), day(2024, 11, 29), "Thanksgiving 2024");
        assert_eq!(first(day(2024, 6, 18)), day(2024, 6, 20), "Juneteenth 2024");
        assert_eq!(first(day(2021, 6, 17)), day(2021, 6, 18), "no Juneteenth before 2022");
        assert_eq!(first(day(2026, 7, 2)), day(2026, 7, 6), "July 4 2026 observed Friday 3rd");
        assert_eq!(first(day(2022, 12, 23)), day(2022, 12, 27), "Christmas 2022 observed Monday");
        assert_eq!(first(day(2021, 12, 30)), day(2021, 12, 31), "Saturday New Year not observed");
    }

    #[test]
    fn crypto_daily_includes_weekends_and_holidays() {
        let times = every(day(2024, 1, 1), day(2024, 1, 14), TimeDelta::days(1), |_| true);
        let next = calendar(&times).next_times(day(2024, 12, 24), 4);
        assert_eq!(
            next,
            [day(2024, 12, 25), day(2024, 12, 26), day(2024, 12, 27), day(2024, 12, 28)]
        );
        assert_eq!(next[3].weekday(), Weekday::Sat);
    }

    #[test]
    fn daily_keeps_the_bar_time_of_day() {
        let times = every(at(2024, 1, 1, 21, 0), at(2024, 1, 12, 21, 0), TimeDelta::days(1), |t| {
            t.weekday().num_days_from_monday() < 5
        });
        let next = calendar(&times).next_times(at(2024, 1, 12, 21, 0), 1);
        assert_eq!(next, [at(2024, 1, 16, 21, 0)], "MLK day 2024-01-15 skipped");
    }

    #[test]
    fn weekly_and_other_step_plainly() {
        let weekly = every(day(2024, 1, 5), day(2024, 3, 1), TimeDelta::days(7), |_| true);
        let next = calendar(&weekly).next_times(day(2024, 12, 27), 2);
        assert_eq!(next, [day(2025, 1, 3), day(2025, 1, 10)]);
        let two_days = every(day(2024, 1, 1), day(2024, 1, 21), TimeDelta::days(2), |_| true);
        let next = calendar(&two_days).next_times(day(2024, 1, 21), 2);
        assert_eq!(next, [day(2024, 1, 23), day(2024, 1, 25)]);
    }

    #[test]
    fn monthly_clamps_to_the_month_end_without_drifting() {
        let mid: Vec<_> = (1..=6).map(|m| day(2023, m, 15)).collect();
        let next = calendar(&mid).next_times(day(2024, 1, 31), 3);
        assert_eq!(next, [day(2024, 2, 29), day(2024, 3, 31), day(2024, 4, 30)]);
    }

    #[test]
    fn month_end_series_stays_on_month_ends() {
        let ends = [day(2023, 11, 30), day(2023, 12, 31), day(2024, 1, 31), day(2024, 2, 29)];
        let next = calendar(&ends).next_times(day(2024, 2, 29), 3);
        assert_eq!(next, [day(2024, 3, 31), day(2024, 4, 30), day(2024, 5, 31)]);
        // The same last bar in a mid-month series keeps its day of month.
        let mid: Vec<_> = (1..=6).map(|m| day(2023, m, 15)).collect();
        let next = calendar(&mid).next_times(day(2024, 2, 29), 2);
        assert_eq!(next, [day(2024, 3, 29), day(2024, 4, 29)]);
    }

    #[test]
    fn quarterly_and_yearly_add_months() {
        let quarterly: Vec<_> = [1, 4, 7, 10].into_iter().map(|m| day(2023, m, 1)).collect();
        let next = calendar(&quarterly).next_times(day(2023, 10, 1), 2);
        assert_eq!(next, [day(2024, 1, 1), day(2024, 4, 1)]);
        let yearly = [day(2022, 6, 15), day(2023, 6, 15), day(2024, 6, 15)];
        let next = calendar(&yearly).next_times(day(2024, 2, 29), 2);
        assert_eq!(next, [day(2025, 2, 28), day(2026, 2, 28)]);
    }

    #[test]
    fn zero_bars_is_empty() {
        assert!(stock_daily().next_times(day(2024, 1, 12), 0).is_empty());
    }
}
