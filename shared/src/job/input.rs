//! Parsing a `POST /jobs` body into a validated [`JobSpec`], with errors naming the field.
//!
//! The JSON is walked by hand rather than derived so that every rejection says exactly which
//! field was wrong and what was expected, and unknown fields are refused (a typo such as
//! `"horizn"` must not silently fall back to a default).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AnalysisDate, JobKind, ModelName, Symbol};
use crate::field_error::FieldError;
use crate::market::{DataSource, Interval};

pub(crate) mod cost;
mod schema;
mod storable;
mod summary;
pub(crate) mod training;
mod walk;

pub use cost::TrainingCost;
pub use schema::submission_schema;
pub use summary::summarize_input;
pub use training::TrainingInput;
use walk::Fields;

pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_CONTEXT_CHARS: usize = 5_000;
pub const MAX_QUESTION_CHARS: usize = 2_000;

/// A validated job, as stored in `jobs.input` (serialised) and read back by the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JobSpec {
    Analysis(AnalysisInput),
    Training(TrainingInput),
}

impl JobSpec {
    pub fn kind(&self) -> JobKind {
        match self {
            JobSpec::Analysis(_) => JobKind::Analysis,
            JobSpec::Training(_) => JobKind::Training,
        }
    }

    pub fn symbol(&self) -> Option<&Symbol> {
        match self {
            JobSpec::Analysis(AnalysisInput::Market(m)) => Some(&m.symbol),
            JobSpec::Analysis(AnalysisInput::Journal(_)) => None,
            JobSpec::Training(t) => Some(&t.symbol),
        }
    }

    /// The stored form of `input`: what `GET /jobs/{id}` echoes back.
    pub fn to_input_json(&self) -> Value {
        serde_json::to_value(self).expect("job inputs always serialise")
    }

    /// Reads a stored input back (the worker side).
    pub fn from_stored(kind: JobKind, input: &Value) -> Result<Self, serde_json::Error> {
        match kind {
            JobKind::Analysis => serde_json::from_value(input.clone()).map(JobSpec::Analysis),
            JobKind::Training => serde_json::from_value(input.clone()).map(JobSpec::Training),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "lowercase")]
pub enum AnalysisInput {
    Market(MarketInput),
    Journal(JournalInput),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketInput {
    pub symbol: Symbol,
    pub date: AnalysisDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSource>,
    /// The bars fetched from a provider when there is no `data`: `1d` (default) or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    /// The training job whose model forecasts for this analysis (the caller must be allowed to
    /// read it); unset: the newest usable model of the owner's, or a shared one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_model: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalInput {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelName>,
}

/// Parses a whole submission body: `{"kind": ..., "input": {...}}`, or the short form
/// `{"ticker": "NVDA", "date": "2024-05-10"}` (as a body or as an analysis `input`). `now`
/// bounds the analysis date: neither its day nor its instant may be later.
pub fn parse_submission(body: &Value, now: DateTime<Utc>) -> Result<JobSpec, FieldError> {
    let Value::Object(map) = body else {
        return Err(FieldError::new("body", "expected a JSON object"));
    };
    storable::check_storable(body, "")?;
    if !map.contains_key("kind") && map.contains_key("ticker") {
        return parse_analysis(map, now, "").map(JobSpec::Analysis);
    }
    let mut top = Fields::new(map, "");
    let kind: JobKind =
        top.required_str("kind")?.parse().map_err(|e: String| FieldError::new("kind", e))?;
    let input = top.required_object("input")?;
    top.deny_unknown()?;
    match kind {
        JobKind::Analysis => parse_analysis(input, now, "input").map(JobSpec::Analysis),
        JobKind::Training => TrainingInput::parse(input, "input").map(JobSpec::Training),
    }
}

fn parse_analysis(
    map: &Map<String, Value>,
    now: DateTime<Utc>,
    path: &str,
) -> Result<AnalysisInput, FieldError> {
    let mut f = Fields::new(map, path);
    if map.contains_key("ticker") && !map.contains_key("task") {
        // Short form: `ticker` stands for `symbol` of a market analysis.
        let symbol = f.parsed("ticker", Symbol::parse)?;
        let date = f.parsed("date", |raw| AnalysisDate::parse(raw, now))?;
        f.deny_unknown()?;
        return Ok(AnalysisInput::Market(MarketInput {
            symbol,
            date,
            question: None,
            model: None,
            data: None,
            interval: None,
            forecast_model: None,
        }));
    }
    let task = f.required_str("task")?;
    let parsed = match task {
        "market" => AnalysisInput::Market(MarketInput {
            symbol: f.parsed("symbol", Symbol::parse)?,
            date: f.parsed("date", |raw| AnalysisDate::parse(raw, now))?,
            question: f.optional_text("question", MAX_QUESTION_CHARS)?,
            model: f.optional_parsed("model", ModelName::parse)?,
            data: f.optional_data_source("data")?,
            interval: f.optional_parsed("interval", parse_interval)?,
            forecast_model: f.optional_parsed("forecast_model", |raw| {
                uuid::Uuid::parse_str(raw)
                    .map_err(|_| format!("{raw:?} is not a job id (the training job's UUID)"))
            })?,
        }),
        "journal" => AnalysisInput::Journal(JournalInput {
            text: f.required_text("text", MAX_TEXT_CHARS)?,
            context: f.optional_text("context", MAX_CONTEXT_CHARS)?,
            model: f.optional_parsed("model", ModelName::parse)?,
        }),
        other => {
            return Err(f.error(
                "task",
                format!("unknown task {other:?}: expected \"market\" or \"journal\""),
            ));
        }
    };
    f.deny_unknown()?;
    Ok(parsed)
}

/// `1d` or `1h` (shared with the training parser).
pub(crate) fn parse_interval(raw: &str) -> Result<Interval, String> {
    Interval::parse(raw)
        .ok_or_else(|| format!("{raw:?} is not an interval: expected \"1d\" or \"1h\""))
}

/// Parses and checks `input.data` (shared with the training parser). Inline bars are read
/// from the borrowed JSON, one by one, so that an error names the bar and its field
/// (`input.data.bars[3].time`) and a megabyte of bars is never copied first.
pub(crate) fn data_source(value: &Value, path: &str) -> Result<DataSource, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::new(
            path,
            format!("expected an object, got {}", walk::kind_of(value)),
        ));
    };
    let mut f = Fields::new(map, path);
    let source = match f.required_str("source")? {
        "csv" => DataSource::Csv { path: f.required_str("path")?.to_owned() },
        "inline" => {
            let raw = f.required("bars")?;
            let Value::Array(items) = raw else {
                let got = walk::kind_of(raw);
                return Err(f.error("bars", format!("expected an array of bars, got {got}")));
            };
            let bars = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    serde_path_to_error::deserialize(item).map_err(|e| {
                        let inner = e.path().to_string();
                        let at = if inner == "." { String::new() } else { format!(".{inner}") };
                        f.error(&format!("bars[{i}]{at}"), e.into_inner().to_string())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            DataSource::Inline { bars }
        }
        other => {
            return Err(f.error(
                "source",
                format!("unknown source {other:?}: expected \"csv\" or \"inline\""),
            ));
        }
    };
    f.deny_unknown()?;
    source.validate().map_err(|e| e.within(path))?;
    Ok(source)
}

#[cfg(test)]
mod tests;
