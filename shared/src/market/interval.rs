//! The bar interval a job asks for: daily (the default) or hourly.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
pub enum Interval {
    #[default]
    #[serde(rename = "1d")]
    Day,
    #[serde(rename = "1h")]
    Hour,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "1d",
            Interval::Hour => "1h",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1d" => Some(Interval::Day),
            "1h" => Some(Interval::Hour),
            _ => None,
        }
    }

    pub fn duration(self) -> Duration {
        match self {
            Interval::Day => Duration::from_secs(86_400),
            Interval::Hour => Duration::from_secs(3_600),
        }
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
