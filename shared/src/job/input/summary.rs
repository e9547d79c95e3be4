//! The short form of a job's input shown in lists: inline bars become their count and range,
//! long texts are cut. `GET /jobs/{id}` still returns the whole input; a list page of 100 jobs
//! stays small whatever each job carries.
//!
//! The migration that added `jobs.input_summary` applies the same rule in SQL to older rows.

use serde_json::{Value, json};

use super::{AnalysisInput, JobSpec};
use crate::market::DataSource;

/// Texts longer than this many characters are cut in summaries.
pub const SUMMARY_TEXT_CHARS: usize = 200;

impl JobSpec {
    /// The input as a list shows it, or `None` when it is short enough to show whole.
    pub fn summary(&self) -> Option<Value> {
        let mut input = self.to_input_json();
        let mut cut = false;
        for key in ["text", "context", "question"] {
            if let Some(Value::String(text)) = input.get_mut(key)
                && text.chars().count() > SUMMARY_TEXT_CHARS
            {
                let mut short: String = text.chars().take(SUMMARY_TEXT_CHARS).collect();
                short.push('…');
                *text = short;
                cut = true;
            }
        }
        if let Some(DataSource::Inline { bars }) = self.data() {
            input["data"] = json!({
                "source": "inline",
                "bar_count": bars.len(),
                "from": bars.first().map(|b| b.time),
                "to": bars.last().map(|b| b.time),
            });
            cut = true;
        }
        cut.then_some(input)
    }

    fn data(&self) -> Option<&DataSource> {
        match self {
            JobSpec::Analysis(AnalysisInput::Market(m)) => m.data.as_ref(),
            JobSpec::Analysis(AnalysisInput::Journal(_)) => None,
            JobSpec::Training(t) => t.data.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::job::parse_submission;

    fn spec(body: Value) -> JobSpec {
        parse_submission(&body, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap()
    }

    #[test]
    fn short_inputs_are_shown_whole() {
        let s = spec(json!({"kind": "analysis", "input": {"task": "journal", "text": "short"}}));
        assert_eq!(s.summary(), None);
    }

    #[test]
    fn inline_bars_become_a_count_and_range_and_long_texts_are_cut() {
        let bars: Vec<Value> = (1..=9)
            .map(|d| json!({"time": format!("2024-01-0{d}"), "open": 1, "high": 2, "low": 0.5, "close": 1.5}))
            .collect();
        let s = spec(json!({"kind": "analysis", "input": {"task": "market", "symbol": "X",
            "date": "2024-02-01", "question": "q".repeat(500), "data": {"source": "inline", "bars": bars}}}));
        let summary = s.summary().unwrap();
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
