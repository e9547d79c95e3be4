//! Validated input fields ("parse, don't validate"): a value of these types is known good.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::market::Cutoff;

/// The patterns are also the OpenAPI document's (`job::submission_schema`).
pub(crate) const SYMBOL_PATTERN: &str = r"^[A-Z0-9.\-=^]{1,15}$";
pub(crate) const MODEL_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,99}$";
/// A day, or an RFC 3339 date-time (upper-case `T` and `Z`, seconds, an offset with a colon).
pub(crate) const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2}))?$";
static SYMBOL: LazyLock<Regex> = LazyLock::new(|| Regex::new(SYMBOL_PATTERN).unwrap());
static MODEL: LazyLock<Regex> = LazyLock::new(|| Regex::new(MODEL_PATTERN).unwrap());
static DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(DATE_PATTERN).unwrap());

/// A ticker such as `NVDA`, `BRK.B`, `EURUSD=X` or `^GSPC`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Symbol(String);

impl Symbol {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if SYMBOL.is_match(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "{raw:?} is not a symbol: expected 1-15 upper-case letters, digits or . - = ^ \
                 (pattern ^[A-Z0-9.\\-=^]{{1,15}}$)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a market analysis is made, as the user writes it in `input.date`: a day `YYYY-MM-DD`
/// (as of its close) or an RFC 3339 date-time with `Z` or an offset (converted to UTC), never
/// in the future: analysis never looks ahead. Stored, and shown, as `2024-03-05` or
/// `2024-03-05T14:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisDate(Cutoff);

impl AnalysisDate {
    /// Parses `raw` and refuses a day after `now`'s (UTC) or an instant after `now`.
    pub fn parse(raw: &str, now: DateTime<Utc>) -> Result<Self, String> {
        let parsed = Self::parse_shape(raw)?;
        let future = match parsed.0 {
            Cutoff::Day(day) => day > now.date_naive(),
            Cutoff::Instant(at) => at > now,
        };
        if future {
            let now = Cutoff::Instant(now.trunc_subsecs(0));
            return Err(format!("{raw} is in the future (it is now {now})"));
        }
        Ok(parsed)
    }

    /// The form alone, with no "not in the future": a stored input is read back with this.
    fn parse_shape(raw: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "{raw:?} is not a date: expected YYYY-MM-DD or an RFC 3339 date-time with Z or \
                 an offset, such as 2024-03-05T14:00:00Z or 2024-03-05T15:00:00+01:00"
            )
        };
        if !DATE.is_match(raw) {
            return Err(invalid());
        }
        let cutoff = if raw.len() == 10 {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(Cutoff::Day)
        } else {
            DateTime::parse_from_rfc3339(raw).map(|at| Cutoff::Instant(at.to_utc()))
        };
        cutoff.map(Self).map_err(|_| invalid())
    }

    /// Where the analysis stops reading bars.
    pub fn cutoff(self) -> Cutoff {
        self.0
    }
}

impl fmt::Display for AnalysisDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for AnalysisDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AnalysisDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse_shape(&raw).map_err(serde::de::Error::custom)
    }
}

/// An Ollama model tag such as `qwen2.5:3b` or `library/llama3:latest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelName(String);

impl ModelName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if MODEL.is_match(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("{raw:?} is not a model name: expected e.g. \"qwen2.5:3b\""))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-06-01 12:00 UTC.
    fn now() -> DateTime<Utc> {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    fn instant(raw: &str) -> Cutoff {
        Cutoff::Instant(raw.parse().unwrap())
    }

    #[test]
    fn symbols_follow_the_documented_pattern() {
        for ok in ["NVDA", "BRK.B", "EURUSD=X", "^GSPC", "BTC-USD", "A", "ABCDEFGHIJKLMNO"] {
            assert!(Symbol::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "nvda", "NV DA", "ABCDEFGHIJKLMNOP", "NVDA$", "../X"] {
            assert!(Symbol::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_must_be_iso_and_not_in_the_future() {
        assert!(AnalysisDate::parse("2024-05-10", now()).is_ok());
        assert!(AnalysisDate::parse("2024-06-01", now()).is_ok());
        let err = AnalysisDate::parse("2024-06-02", now()).unwrap_err();
        assert_eq!(err, "2024-06-02 is in the future (it is now 2024-06-01T12:00:00Z)");
        for bad in ["2024-5-10", "10/05/2024", "2024-02-30", "20240510", "2024-05-10T00:00"] {
            assert!(AnalysisDate::parse(bad, now()).unwrap_err().contains("YYYY-MM-DD"), "{bad}");
        }
    }

    #[test]
    fn an_instant_with_z_or_an_offset_is_kept_in_utc() {
        let cases = [
            ("2024-03-05T14:00:00Z", "2024-03-05T14:00:00Z"),
            ("2024-03-05T15:00:00+01:00", "2024-03-05T14:00:00Z"),
            ("2024-03-05T09:30:00-04:30", "2024-03-05T14:00:00Z"),
            ("2024-03-05T00:30:00+01:00", "2024-03-04T23:30:00Z"),
            ("2024-03-05T14:00:00.250Z", "2024-03-05T14:00:00.250Z"),
            ("2024-03-05T14:00:00.5+00:00", "2024-03-05T14:00:00.500Z"),
            ("2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z"),
        ];
        for (raw, utc) in cases {
            let parsed = AnalysisDate::parse(raw, now()).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(parsed.cutoff(), instant(utc), "{raw}");
            assert_eq!(parsed.to_string(), utc, "{raw}");
        }
    }

    #[test]
    fn an_instant_must_be_rfc_3339_with_seconds_and_an_offset() {
        for bad in [
            "2024-03-05T14:00:00",
            "2024-03-05T14:00Z",
            "2024-03-05 14:00:00Z",
            "2024-03-05t14:00:00z",
            "2024-03-05T14:00:00+0100",
            "2024-03-05T14:00:00+01",
            "2024-03-05T25:00:00Z",
            "2024-03-05T14:60:00Z",
            "2024-02-30T14:00:00Z",
            "2024-03-05T14:00:00+24:00",
            "2024-03-05T14:00:00.Z",
            "2024-03-05T14:00:00.1234567890Z",
            "2024-03-05T14:00:00Z ",
            " 2024-03-05",
        ] {
            let err = AnalysisDate::parse(bad, now()).unwrap_err();
            assert!(err.contains("RFC 3339") && err.contains("YYYY-MM-DD"), "{bad}: {err}");
        }
    }

    #[test]
    fn an_instant_after_now_is_in_the_future() {
        for future in
            ["2024-06-01T12:00:01Z", "2024-06-01T12:00:00.001Z", "2024-06-01T13:30:00+01:00"]
        {
            let err = AnalysisDate::parse(future, now()).unwrap_err();
            assert!(err.contains("is in the future (it is now 2024-06-01T12:00:00Z)"), "{err}");
        }
        // The same wall-clock time further west is later, hence refused; further east, earlier.
        assert!(AnalysisDate::parse("2024-06-01T12:00:00-01:00", now()).is_err());
        assert!(AnalysisDate::parse("2024-06-01T12:00:00+01:00", now()).is_ok());
    }

    #[test]
    fn both_forms_round_trip_through_serde() {
        for (raw, stored) in [
            ("2010-06-01", "2010-06-01"),
            ("2024-03-05T14:00:00Z", "2024-03-05T14:00:00Z"),
            ("2024-03-05T15:00:00+01:00", "2024-03-05T14:00:00Z"),
        ] {
            let parsed = AnalysisDate::parse(raw, now()).unwrap();
            let json = serde_json::to_value(parsed).unwrap();
            assert_eq!(json, stored);
            assert_eq!(serde_json::from_value::<AnalysisDate>(json).unwrap(), parsed);
        }
        // Reading a stored input back checks the form, not "not in the future".
        let later: AnalysisDate = serde_json::from_str("\"2999-01-01T00:00:00Z\"").unwrap();
        assert_eq!(later.cutoff(), instant("2999-01-01T00:00:00Z"));
        assert!(serde_json::from_str::<AnalysisDate>("\"2024-03-05T14:00\"").is_err());
        assert!(serde_json::from_str::<AnalysisDate>("20240305").is_err());
    }

    #[test]
    fn model_names_look_like_ollama_tags() {
        assert!(ModelName::parse("qwen2.5:7b").is_ok());
        assert!(ModelName::parse("library/llama3:latest").is_ok());
        assert!(ModelName::parse("rm -rf").is_err());
        assert!(ModelName::parse("").is_err());
    }
}
