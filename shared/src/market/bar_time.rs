//! The time of a bar: a calendar date (daily data) or a date and time (intraday data).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// When a bar happened. Serialised as a string: `"2010-05-28"` for a date,
/// `"2017-04-19T09:00:00"` for a date-time.
///
/// Parsing also accepts `YYYY-MM-DD HH:MM[:SS[.fff]]` (space or `T`, as pandas writes it) and
/// RFC 3339 with an offset (`2017-04-19T11:00:00+02:00`, `…Z`), which is converted to UTC and
/// then kept without an offset: every intraday time in the system is naive UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarTime {
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl BarTime {
    /// The calendar day the bar belongs to.
    pub fn date(&self) -> NaiveDate {
        match self {
            BarTime::Date(d) => *d,
            BarTime::DateTime(dt) => dt.date(),
        }
    }

    /// The bar's start as a date-time; a plain date counts as midnight. Used to order bars.
    pub fn to_datetime(&self) -> NaiveDateTime {
        match self {
            BarTime::Date(d) => d.and_time(NaiveTime::MIN),
            BarTime::DateTime(dt) => *dt,
        }
    }
}

/// A bar time that is neither a date nor a date-time in one of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time {0:?}: expected a date (YYYY-MM-DD) or a date-time \
     (YYYY-MM-DD HH:MM[:SS], YYYY-MM-DDTHH:MM:SS, or RFC 3339 with an offset)"
)]
pub struct ParseBarTimeError(String);

const NAIVE_FORMATS: [&str; 4] =
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];

const OFFSET_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
];

impl FromStr for BarTime {
    type Err = ParseBarTimeError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim();
        if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(BarTime::Date(date));
        }
        if let Some(dt) =
            NAIVE_FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        {
            return Ok(BarTime::DateTime(dt));
        }
        // chrono's %z does not take "Z", RFC 3339's name for UTC.
        let with_offset = match s.strip_suffix(['Z', 'z']) {
            Some(rest) => Cow::Owned(format!("{rest}+00:00")),
            None => Cow::Borrowed(s),
        };
        OFFSET_FORMATS
            .iter()
            .find_map(|f| DateTime::parse_from_str(&with_offset, f).ok())
            .map(|dt| BarTime::DateTime(dt.naive_utc()))
            .ok_or_else(|| ParseBarTimeError(raw.to_owned()))
    }
}

impl fmt::Display for BarTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarTime::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            // `%.f` prints nothing for whole seconds, so hourly bars read "…T09:00:00".
            BarTime::DateTime(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.f")),
        }
    }
}

impl Serialize for BarTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BarTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Cow::<'de, str>::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for BarTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A date (`2010-05-28`) or a date-time in UTC (`2017-04-19T09:00:00`). \
                 Input may also be `YYYY-MM-DD HH:MM[:SS]` or RFC 3339 with an offset.",
            ))
            .examples(["2010-05-28", "2017-04-19T09:00:00"])
            .into()
    }
}

impl utoipa::ToSchema for BarTime {}
