//! Validated input fields ("parse, don't validate"): a value of these types is known good.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// The patterns are also the OpenAPI document's (`job::submission_schema`).
pub(crate) const SYMBOL_PATTERN: &str = r"^[A-Z0-9.\-=^]{1,15}$";
pub(crate) const MODEL_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,99}$";
static SYMBOL: LazyLock<Regex> = LazyLock::new(|| Regex::new(SYMBOL_PATTERN).unwrap());
static MODEL: LazyLock<Regex> = LazyLock::new(|| Regex::new(MODEL_PATTERN).unwrap());

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

/// A calendar date written `YYYY-MM-DD`, not after today (UTC): analysis never looks ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IsoDate(NaiveDate);

impl IsoDate {
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, String> {
        let well_formed = raw.len() == 10 && raw.as_bytes()[4] == b'-' && raw.as_bytes()[7] == b'-';
        let date = well_formed
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| format!("{raw:?} is not a date: expected YYYY-MM-DD"))?;
        if date > today {
            return Err(format!("{raw} is in the future (today is {today})"));
        }
        Ok(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
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

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
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
        assert!(IsoDate::parse("2024-05-10", today()).is_ok());
        assert!(IsoDate::parse("2024-06-01", today()).is_ok());
        assert!(IsoDate::parse("2024-06-02", today()).unwrap_err().contains("future"));
        for bad in ["2024-5-10", "10/05/2024", "2024-02-30", "20240510", "2024-05-10T00:00"] {
            assert!(IsoDate::parse(bad, today()).unwrap_err().contains("YYYY-MM-DD"), "{bad}");
        }
    }

    #[test]
    fn model_names_look_like_ollama_tags() {
        assert!(ModelName::parse("qwen2.5:7b").is_ok());
        assert!(ModelName::parse("library/llama3:latest").is_ok());
        assert!(ModelName::parse("rm -rf").is_err());
        assert!(ModelName::parse("").is_err());
    }
}
