//! The JSON Schema of a `POST /jobs` body, for the OpenAPI document, built from the same bounds
//! and patterns the parser enforces so that the two cannot drift apart.
//!
//! What JSON Schema cannot say, the parser still checks and answers with a 422 naming the field:
//! a date or instant in the future, bars out of time order or with `high` below `close`, too few bars for
//! the horizon, and a training over the compute budget.

use serde_json::{Value, json};

use super::training::{
    LEARNING_RATE_RANGE, MAX_HORIZON, MAX_INPUT_SIZE, MAX_SEASONS, MAX_STEPS,
    MAX_WINDOWS_BATCH_SIZE, MLP_WIDTH_RANGE, RECIPES, SCALERS, SEASON_RANGE,
};
use super::{MAX_CONTEXT_CHARS, MAX_QUESTION_CHARS, MAX_TEXT_CHARS};
use crate::job::fields::{DATE_PATTERN, MODEL_PATTERN, SYMBOL_PATTERN};
use crate::market::MAX_INLINE_BARS;

/// Characters `str::trim` removes (Unicode White_Space), spelled out: `\s` means different
/// things to different regex engines.
const SPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Text that is not blank and holds no NUL (which Postgres cannot store).
fn text(max: usize, description: &str) -> Value {
    json!({
        "type": "string",
        "description": description,
        "minLength": 1,
        "maxLength": max,
        "pattern": format!(r"^[^\u0000]*[^\u0000{SPACE}][^\u0000]*$"),
    })
}

fn optional(mut schema: Value) -> Value {
    let kind = schema["type"].clone();
    schema["type"] = json!([kind, "null"]);
    schema
}

fn symbol() -> Value {
    json!({"type": "string", "pattern": SYMBOL_PATTERN, "description": "a ticker such as NVDA, BRK.B, EURUSD=X or ^GSPC", "example": "GOOG"})
}

/// No `format`: the value is a `date` or a `date-time`, and the pattern says which forms.
fn date() -> Value {
    json!({"type": "string", "pattern": DATE_PATTERN,
           "description": "YYYY-MM-DD (as of that day's close, UTC), or an RFC 3339 date-time with Z or an offset \
                           (2024-03-05T14:00:00Z, 2024-03-05T15:00:00+01:00: as of that instant, stored in UTC); \
                           not in the future: bars after it are never used",
           "examples": ["2010-06-01", "2017-06-14T14:00:00Z"]})
}

fn model_name() -> Value {
    json!({"type": "string", "pattern": MODEL_PATTERN, "description": "an Ollama model tag; default OLLAMA_MODEL", "example": "qwen2.5:3b"})
}

fn integer(min: u64, max: u64, description: &str) -> Value {
    json!({"type": ["integer", "null"], "minimum": min, "maximum": max, "description": description})
}

fn data_source() -> Value {
    let price = json!({"type": "number", "exclusiveMinimum": 0});
    let bar = json!({
        "type": "object",
        "description": "one bar; high >= max(open, close) and low <= min(open, close)",
        "required": ["time", "open", "high", "low", "close"],
        "additionalProperties": false,
        "properties": {
            "time": {"type": "string", "description": "YYYY-MM-DD, or a date-time: YYYY-MM-DD[T ]HH:MM[:SS[.fff]], or with seconds and an offset (Z, +02:00)",
                     "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?)?$"},
            "open": price, "high": price, "low": price, "close": price,
            "volume": {"type": "number", "minimum": 0, "default": 0},
        },
    });
    json!({
        "description": "where the bars come from; without it, DATA_DIR/<SYMBOL>.csv",
        "oneOf": [
            {
                "title": "CSV file",
                "type": "object",
                "required": ["source", "path"],
                "additionalProperties": false,
                "properties": {
                    "source": {"const": "csv"},
                    "path": {
                        "type": "string",
                        "maxLength": 255,
                        "description": "a .csv file relative to DATA_DIR: no leading /, no .. segment, no \\ or :",
                        "pattern": r"^(?!/)(?!(?:.*/)?\.\.(?:/|$))[^\\:\u0000-\u001f\u007f-\u009f]*[^/\\:\u0000-\u001f\u007f-\u009f]\.[cC][sS][vV]$",
                        "example": "GOOG.csv",
                    },
                },
            },
            {
                "title": "Inline bars",
                "type": "object",
                "required": ["source", "bars"],
                "additionalProperties": false,
                "properties": {
                    "source": {"const": "inline"},
                    "bars": {"type": "array", "minItems": 1, "maxItems": MAX_INLINE_BARS,
                             "description": "oldest first, strictly increasing times", "items": bar},
                },
            },
        ],
    })
}

fn market_input() -> Value {
    json!({
        "title": "Market analysis",
        "type": "object",
        "required": ["task", "symbol", "date"],
        "additionalProperties": false,
        "properties": {
            "task": {"const": "market"},
            "symbol": symbol(),
            "date": date(),
            "question": optional(text(MAX_QUESTION_CHARS, "a question for the analysts")),
            "model": optional(model_name()),
            "data": optional_object(data_source()),
            "interval": interval(),
            "forecast_model": optional(json!({"type": "string", "format": "uuid",
                "description": "id of a succeeded training job on this symbol whose model forecasts for the analysis"})),
        },
    })
}

/// A `oneOf` that may also be `null` (the parser treats `null` as "not given").
fn optional_object(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn interval() -> Value {
    json!({"enum": ["1d", "1h", null], "description": "without `data`: the bars fetched from a provider, daily (default) or hourly"})
}

fn short_form() -> Value {
    json!({
        "title": "Market analysis, short form",
        "type": "object",
        "required": ["ticker", "date"],
        "additionalProperties": false,
        "properties": {"ticker": symbol(), "date": date()},
    })
}

fn journal_input() -> Value {
    json!({
        "title": "Journal review",
        "type": "object",
        "required": ["task", "text"],
        "additionalProperties": false,
        "properties": {
            "task": {"const": "journal"},
            "text": text(MAX_TEXT_CHARS, "the journal entry"),
            "context": optional(text(MAX_CONTEXT_CHARS, "market, strategy, rules")),
            "model": optional(model_name()),
        },
    })
}

fn training_input() -> Value {
    json!({
        "title": "Training",
        "type": "object",
        "required": ["symbol", "model", "horizon"],
        "additionalProperties": false,
        "properties": {
            "symbol": symbol(),
            "model": {"const": "nhits"},
            "horizon": {"type": "integer", "minimum": 1, "maximum": MAX_HORIZON, "description": "bars forecast at once"},
            "input_size": integer(1, MAX_INPUT_SIZE, "bars the model reads; default 5 x horizon, widened to two of the longest season within the budget"),
            "max_steps": integer(1, MAX_STEPS, "optimiser steps; default 1000"),
            "seed": integer(0, u32::MAX as u64, "seeds initialisation and sampling"),
            "learning_rate": {"type": ["number", "null"], "minimum": LEARNING_RATE_RANGE.0, "maximum": LEARNING_RATE_RANGE.1},
            "windows_batch_size": integer(1, MAX_WINDOWS_BATCH_SIZE, "windows per step; default 1024"),
            "mlp_width": integer(MLP_WIDTH_RANGE.0, MLP_WIDTH_RANGE.1, "units per hidden layer; default 512"),
            "scaler": {"enum": [SCALERS[0], SCALERS[1], null]},
            "recipe": {"enum": [RECIPES[0], RECIPES[1], null]},
            "data": optional_object(data_source()),
            "interval": interval(),
            "seasons": {
                "type": ["array", "null"],
                "maxItems": MAX_SEASONS,
                "items": {"type": "integer", "minimum": SEASON_RANGE.0, "maximum": SEASON_RANGE.1},
                "description": "season lengths in bars, one seasonal naive baseline each; default: from the bar spacing and the autocorrelation of the training bars",
            },
            "exog": {"type": ["boolean", "null"], "description": "calendar inputs (hour of day, day of week) as known-future features; default on for intraday and daily bars"},
            "refit": {"type": ["boolean", "null"], "description": "retrain on the whole training region for the chosen number of steps; default true"},
        },
    })
}

/// The request body of `POST /jobs`.
pub fn submission_schema() -> Value {
    let job = |kind: &str, input: Value| {
        json!({
            "type": "object",
            "required": ["kind", "input"],
            "additionalProperties": false,
            "properties": {"kind": {"const": kind}, "input": input},
        })
    };
    json!({
        "description": "A job: `kind` selects the input. The short form {\"ticker\", \"date\"} \
                        (as the body or as an analysis input) is a market analysis.",
        "oneOf": [
            job("analysis", json!({"oneOf": [market_input(), journal_input(), short_form()]})),
            job("training", training_input()),
            short_form(),
        ],
        "example": {"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01"}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns must also be valid for the Rust regex engine where it can read them (no
    /// look-around): a typo would otherwise reach the document unnoticed.
    #[test]
    fn the_text_pattern_accepts_what_the_parser_accepts() {
        let pattern = regex::Regex::new(text(10, "")["pattern"].as_str().unwrap()).unwrap();
        for ok in ["a", " a ", "I overtraded.", "\u{3000}x"] {
            assert!(pattern.is_match(ok), "{ok:?}");
        }
        for bad in ["", " ", "\t\n", "\u{3000}", "a\u{0}"] {
            assert!(!pattern.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_date_pattern_matches_both_forms_and_nothing_the_parser_takes_is_outside_it() {
        let pattern = regex::Regex::new(date()["pattern"].as_str().unwrap()).unwrap();
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        for ok in ["2010-06-01", "2017-06-14T14:00:00Z", "2017-06-14T16:00:00.5+02:00"] {
            assert!(pattern.is_match(ok), "{ok}");
            assert!(crate::job::AnalysisDate::parse(ok, now).is_ok(), "{ok}");
        }
        for bad in
            ["2010-6-1", "2017-06-14T14:00:00", "2017-06-14 14:00:00Z", "2017-06-14t14:00:00z"]
        {
            assert!(!pattern.is_match(bad), "{bad}");
            assert!(crate::job::AnalysisDate::parse(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_bar_time_pattern_matches_every_form_the_parser_documents() {
        let schema = data_source();
        let time = &schema["oneOf"][1]["properties"]["bars"]["items"]["properties"]["time"];
        let pattern = regex::Regex::new(time["pattern"].as_str().unwrap()).unwrap();
        for ok in [
            "2010-05-28",
            "2017-04-19T09:00",
            "2017-04-19 09:00:00.5",
            "2017-04-19T11:00:00+02:00",
            "2017-04-19T09:00:00Z",
        ] {
            assert!(pattern.is_match(ok), "{ok}");
            assert!(ok.parse::<crate::market::BarTime>().is_ok(), "{ok}");
        }
    }
}
