//! Season lengths, in bars, that a series' spacing implies.

use super::{Calendar, Spacing};

impl Calendar {
    /// Season lengths in bars implied by the spacing, shortest first, each >= 2.
    ///
    /// Intraday: bars per trading day and per trading week, counted from the slots seen. The
    /// day is the most common count among the weekdays that trade (ties: the larger), so the
    /// stub of an FX week's Sunday-evening open does not shorten it; the week is every slot.
    /// Daily: a trading week and month (5, 21) or a calendar week and month (7, 30).
    pub fn seasons(&self) -> Vec<usize> {
        match self.spacing {
            Spacing::Intraday { .. } => {
                let per_day = self.slots.per_weekday();
                let day = typical_day(&per_day);
                let week: usize = per_day.iter().sum();
                let mut seasons = Vec::with_capacity(2);
                if day >= 2 {
                    seasons.push(day);
                }
                if week >= 2 && week > day {
                    seasons.push(week);
                }
                seasons
            }
            Spacing::Daily { weekdays_only: true } => vec![5, 21],
            Spacing::Daily { weekdays_only: false } => vec![7, 30],
            Spacing::Weekly => vec![52],
            Spacing::Monthly => vec![12],
            Spacing::Quarterly => vec![4],
            Spacing::Yearly | Spacing::Other { .. } => Vec::new(),
        }
    }
}

/// The most common non-zero count (ties: the larger); 0 when every count is 0.
fn typical_day(per_day: &[usize; 7]) -> usize {
    let mut best = (0, 0); // (frequency, count)
    for &count in per_day.iter().filter(|&&c| c > 0) {
        let frequency = per_day.iter().filter(|&&c| c == count).count();
        best = best.max((frequency, count));
    }
    best.1
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};

    use super::super::test_support::{at, day, every};
    use super::*;

    fn seasons(times: &[NaiveDateTime]) -> Vec<usize> {
        Calendar::infer(times).expect("a calendar").seasons()
    }

    fn weekday(t: NaiveDateTime) -> bool {
        t.weekday().num_days_from_monday() < 5
    }

    #[test]
    fn half_hourly_all_week() {
        let times =
            every(at(2024, 1, 1, 0, 0), at(2024, 1, 14, 23, 30), TimeDelta::minutes(30), |_| true);
        assert_eq!(seasons(&times), [48, 336]);
    }

    #[test]
    fn fx_hourly_monday_to_friday() {
        let times =
            every(at(2024, 1, 1, 0, 0), at(2024, 1, 12, 23, 0), TimeDelta::hours(1), weekday);
        assert_eq!(seasons(&times), [24, 120]);
        // Sunday 22:00 .. Friday 21:00: the same 120 slots, days of 2, 24 ×4 and 22.
        let times =
            every(at(2024, 1, 7, 22, 0), at(2024, 1, 12, 21, 0), TimeDelta::hours(1), |_| true);
        assert_eq!(seasons(&times), [24, 120]);
    }

    #[test]
    fn equity_hourly_sessions() {
        let times =
            every(at(2024, 1, 1, 9, 30), at(2024, 1, 12, 15, 30), TimeDelta::hours(1), |t| {
                weekday(t) && (9..=15).contains(&t.hour())
            });
        assert_eq!(seasons(&times), [7, 35]);
    }

    #[test]
    fn one_slot_a_day_has_no_day_season() {
        // 12 h steps, but one bar a day: Mon 18:00, Tue 06:00, Wed 18:00, Thu 06:00, ...
        let times = [
            at(2024, 1, 1, 18, 0),
            at(2024, 1, 2, 6, 0),
            at(2024, 1, 3, 18, 0),
            at(2024, 1, 4, 6, 0),
            at(2024, 1, 5, 18, 0),
            at(2024, 1, 6, 6, 0),
        ];
        let cal = Calendar::infer(&times).unwrap();
        assert_eq!(cal.kind(), Spacing::Intraday { step_minutes: 720 });
        assert_eq!(cal.seasons(), [6]);
    }

    #[test]
    fn daily_weekly_monthly_quarterly_yearly_other() {
        let stock = every(day(2024, 1, 1), day(2024, 1, 12), TimeDelta::days(1), weekday);
        assert_eq!(seasons(&stock), [5, 21]);
        let crypto = every(day(2024, 1, 1), day(2024, 1, 14), TimeDelta::days(1), |_| true);
        assert_eq!(seasons(&crypto), [7, 30]);
        let weekly = every(day(2024, 1, 5), day(2024, 3, 1), TimeDelta::days(7), |_| true);
        assert_eq!(seasons(&weekly), [52]);
        let monthly: Vec<_> = (1..=6).map(|m| day(2024, m, 1)).collect();
        assert_eq!(seasons(&monthly), [12]);
        let quarterly: Vec<_> = [1, 4, 7, 10].into_iter().map(|m| day(2023, m, 1)).collect();
        assert_eq!(seasons(&quarterly), [4]);
        assert!(seasons(&[day(2023, 1, 1), day(2024, 1, 1)]).is_empty());
        assert!(seasons(&[day(2024, 1, 1), day(2024, 1, 3)]).is_empty());
    }

    #[test]
    fn typical_day_prefers_the_common_count_then_the_larger() {
        assert_eq!(typical_day(&[24, 24, 24, 24, 22, 0, 2]), 24);
        assert_eq!(typical_day(&[3, 5, 0, 0, 0, 0, 0]), 5);
        assert_eq!(typical_day(&[0; 7]), 0);
    }
}
