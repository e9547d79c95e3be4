//! The short form of a job's input shown in lists: inline bars become their count and range,
//! long texts are cut. `GET /jobs/{id}` still returns the whole input; a list page of 100 jobs
//! stays small whatever each job carries.
//!
//! The migration that added `jobs.input_summary` applies the same rule in SQL to older rows.

use serde_json::{Map, Value, json};

/// Texts longer than this many characters are cut in summaries.
pub const SUMMARY_TEXT_CHARS: usize = 200;

/// The stored input (`JobSpec::to_input_json`) as a list shows it, or `None` when it is short
/// enough to show whole. Reads the input without copying its bars.
pub fn summarize_input(input: &Value) -> Option<Value> {
    let map = input.as_object()?;
    let mut summary = Map::with_capacity(map.len());
    let mut cut = false;
    for (key, value) in map {
        let short = match (key.as_str(), value) {
            ("text" | "context" | "question", Value::String(text))
                if text.chars().count() > SUMMARY_TEXT_CHARS =>
            {
                let mut short: String = text.chars().take(SUMMARY_TEXT_CHARS).collect();
                short.push('…');
                Some(Value::String(short))
            }
            ("data", data) if data["source"] == "inline" => {
                let bars = data["bars"].as_array().map_or(&[][..], Vec::as_slice);
                Some(json!({
                    "source": "inline",
                    "bar_count": bars.len(),
                    "from": bars.first().map(|b| &b["time"]),
                    "to": bars.last().map(|b| &b["time"]),
                }))
            }
            _ => None,
        };
        cut |= short.is_some();
        summary.insert(key.clone(), short.unwrap_or_else(|| value.clone()));
    }
    cut.then_some(Value::Object(summary))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::job::parse_submission;

    fn summary(body: Value) -> Option<Value> {
        let spec = parse_submission(&body, "2026-01-01T00:00:00Z".parse().unwrap());
        summarize_input(&spec.unwrap().to_input_json())
    }

    #[test]
    fn short_inputs_are_shown_whole() {
        let s = summary(json!({"kind": "analysis", "input": {"task": "journal", "text": "short"}}));
        assert_eq!(s, None);
    }

    #[test]
    fn inline_bars_become_a_count_and_range_and_long_texts_are_cut() {
        let bars: Vec<Value> = (1..=9)
            .map(|d| json!({"time": format!("2024-01-0{d}"), "open": 1, "high": 2, "low": 0.5, "close": 1.5}))
            .collect();
        let summary = summary(json!({"kind": "analysis", "input": {"task": "market", "symbol": "X",
            "date": "2024-02-01", "question": "q".repeat(500), "data": {"source": "inline", "bars": bars}}}))
        .unwrap();
        assert_eq!(
            summary["data"],
            json!({"source": "inline", "bar_count": 9, "from": "2024-01-01", "to": "2024-01-09"})
        );
        let question = summary["question"].as_str().unwrap();
        assert_eq!(question.chars().count(), SUMMARY_TEXT_CHARS + 1);
        assert!(question.ends_with('…'));
        assert_eq!(summary["symbol"], "X");
    }
}
