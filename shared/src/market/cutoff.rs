//! Where an analysis stops reading bars: at the end of a day, or at an instant.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::BarTime;

/// The last moment whose bars an analysis may see; [`super::bars_up_to`] cuts at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cutoff {
    /// As of the day's close: every bar of that day, intraday bars included, and none after.
    Day(NaiveDate),
    /// As of an instant (UTC): intraday bars stamped at or before it.
    ///
    /// A daily bar (`BarTime::Date`) sums up its whole day, so it is known only once that day
    /// is over: with an instant on day D, daily bars before D are kept and D's is not (an
    /// instant at D+1 00:00 or later keeps it, being on a later day).
    Instant(DateTime<Utc>),
}

impl Cutoff {
    /// Whether a bar stamped `time` is known at this cut-off.
    pub fn keeps(&self, time: &BarTime) -> bool {
        match (self, time) {
            (Cutoff::Day(day), time) => time.date() <= *day,
            (Cutoff::Instant(at), BarTime::Date(day)) => *day < at.date_naive(),
            (Cutoff::Instant(at), BarTime::DateTime(t)) => *t <= at.naive_utc(),
        }
    }

    /// The last day whose every bar is known at this cut-off: the day itself, or for an
    /// instant the day before its own (that day is still running).
    pub fn last_closed_day(&self) -> NaiveDate {
        match self {
            Cutoff::Day(day) => *day,
            Cutoff::Instant(at) => at.date_naive().pred_opt().unwrap_or(NaiveDate::MIN),
        }
    }
}

impl From<NaiveDate> for Cutoff {
    fn from(day: NaiveDate) -> Self {
        Cutoff::Day(day)
    }
}

impl From<DateTime<Utc>> for Cutoff {
    fn from(at: DateTime<Utc>) -> Self {
        Cutoff::Instant(at)
    }
}

/// `2024-03-05` for a day, RFC 3339 in UTC for an instant: `2024-03-05T14:00:00Z` (fractions
/// of a second only when there are some).
impl fmt::Display for Cutoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cutoff::Day(day) => write!(f, "{}", day.format("%Y-%m-%d")),
            Cutoff::Instant(at) => f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}
