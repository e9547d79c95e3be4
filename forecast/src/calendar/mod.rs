//! How a series is sampled, read off its bar times: the step, the trading sessions and
//! weekdays it covers, the bar times that follow its last bar, the season lengths the spacing
//! implies, and known-future calendar inputs for a bar.
//!
//! Bar times are `NaiveDateTime` in UTC, in time order. Nothing here knows an exchange's time
//! zone: sessions are whatever (weekday, minute of day) slots the data itself used, so an FX
//! series and an equity series with the same step continue differently.

mod acf;
mod holidays;
mod infer;
mod next;
mod seasons;
mod slots;

use std::f64::consts::TAU;

use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

pub use acf::acf_seasons;
use slots::SlotSet;

/// Width of [`Calendar::features`]: [sin, cos] of the time of day, [sin, cos] of the weekday.
pub const FEATURES: usize = 4;

/// The spacing of a series, as [`Calendar::infer`] classifies it. Recorded in training
/// reports and model cards, hence (de)serialisable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spacing {
    /// A whole number of minutes, under a day.
    Intraday { step_minutes: u32 },
    /// One day; `weekdays_only` when no bar falls on a Saturday or Sunday (a trading calendar).
    Daily { weekdays_only: bool },
    /// Seven days.
    Weekly,
    /// 28..=31 days.
    Monthly,
    /// 89..=92 days.
    Quarterly,
    /// 365 or 366 days.
    Yearly,
    /// Any other step (including sub-minute ones): continued as a plain fixed step.
    Other { step_seconds: i64 },
}

/// How a series is sampled, read off its timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    spacing: Spacing,
    /// The most common gap between consecutive bars.
    step: TimeDelta,
    /// Intraday: the (weekday, minute of day) slots seen; empty for other spacings.
    slots: SlotSet,
    /// Weekdays (Monday = 0) on which some bar fell.
    weekdays: [bool; 7],
    /// Monthly and coarser: every bar is its month's last day, so continue on month ends
    /// rather than on the last bar's day of month (2024-02-29 is followed by 03-31, not 03-29).
    month_end: bool,
}

impl Calendar {
    /// The spacing the series was classified as.
    pub fn kind(&self) -> Spacing {
        self.spacing
    }

    /// Known-future calendar inputs for a bar at `t`: [sin, cos] of the time of day (fraction
    /// of 24 h) and [sin, cos] of the weekday (Monday = 0, weekday / 7). Both pairs are always
    /// present, so the model's input width does not depend on the spacing.
    pub fn features(t: NaiveDateTime) -> [f32; FEATURES] {
        let day = f64::from(t.num_seconds_from_midnight()) / 86_400.0;
        let week = f64::from(t.weekday().num_days_from_monday()) / 7.0;
        let (day_sin, day_cos) = (TAU * day).sin_cos();
        let (week_sin, week_cos) = (TAU * week).sin_cos();
        [day_sin as f32, day_cos as f32, week_sin as f32, week_cos as f32]
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

    /// `y-m-d h:mi:00`.
    pub fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
    }

    /// Midnight of `y-m-d`.
    pub fn day(y: i32, m: u32, d: u32) -> NaiveDateTime {
        at(y, m, d, 0, 0)
    }

    /// Every `step` from `from` through `to`, keeping the instants `keep` accepts.
    pub fn every(
        from: NaiveDateTime,
        to: NaiveDateTime,
        step: TimeDelta,
        keep: impl Fn(NaiveDateTime) -> bool,
    ) -> Vec<NaiveDateTime> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= to {
            if keep(t) {
                out.push(t);
            }
            t += step;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::at;
    use super::*;

    fn close(a: [f32; 4], b: [f32; 4]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn features_of_monday_midnight_are_zero_angles() {
        // 2024-01-01 is a Monday.
        let f = Calendar::features(at(2024, 1, 1, 0, 0));
        assert!(close(f, [0.0, 1.0, 0.0, 1.0]), "{f:?}");
    }

    #[test]
    fn features_of_thursday_evening() {
        // 2024-01-04 is a Thursday; 18:00 is three quarters of the day, Thursday is day 3.
        let f = Calendar::features(at(2024, 1, 4, 18, 0));
        let week = TAU * 3.0 / 7.0;
        let expected = [-1.0, 0.0, week.sin() as f32, week.cos() as f32];
        assert!(close(f, expected), "{f:?} vs {expected:?}");
        assert!((f[2] - 0.433_883_7).abs() < 1e-6 && (f[3] + 0.900_968_9).abs() < 1e-6);
    }

    #[test]
    fn features_have_the_declared_width_and_unit_pairs() {
        let f = Calendar::features(at(2025, 6, 14, 7, 45));
        assert_eq!(f.len(), FEATURES);
        assert!((f[0].hypot(f[1]) - 1.0).abs() < 1e-6 && (f[2].hypot(f[3]) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn spacing_serialises_in_snake_case() {
        let json = serde_json::to_string(&Spacing::Intraday { step_minutes: 60 }).unwrap();
        assert_eq!(json, r#"{"intraday":{"step_minutes":60}}"#);
        assert_eq!(serde_json::to_string(&Spacing::Weekly).unwrap(), r#""weekly""#);
    }
}
