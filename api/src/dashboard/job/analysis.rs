//! What a succeeded analysis shows: the decision, the indicators, each step's argument and the
//! risks (market); the emotions, rules, biases and advice (journal).

use serde_json::Value;

use crate::dashboard::render;

pub struct Market {
    pub decision: String,
    pub confidence: String,
    pub as_of: String,
    pub rationale: String,
    pub risks: Vec<String>,
    pub indicators: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// "model (served_by), next bars …" when a trained model was used.
    pub forecast: Option<String>,
}

/// One voice of the debate.
pub struct Step {
    pub title: &'static str,
    pub lines: Vec<(&'static str, String)>,
    pub points: Vec<String>,
}

pub struct Journal {
    pub emotions: Vec<String>,
    pub rules_broken: Vec<String>,
    pub biases: Vec<String>,
    pub advice: String,
}

pub fn market(result: &Value) -> Option<Market> {
    (result["task"] == "market").then(|| {
        let analyst = &result["analyst_report"];
        let case = |title, case: &Value| Step {
            title,
            lines: vec![
                ("Thesis", render::value(&case["thesis"])),
                ("Strength", percent(&case["strength"])),
            ],
            points: render::strings(&case["arguments"]),
        };
        let steps = vec![
            Step {
                title: "Analyst",
                lines: vec![
                    ("Summary", render::value(&analyst["summary"])),
                    ("Trend", render::value(&analyst["trend"])),
                    ("Momentum", render::value(&analyst["momentum"])),
                    ("Volatility", render::value(&analyst["volatility"])),
                ],
                points: render::strings(&analyst["signals"]),
            },
            case("Bull case", &result["bull_case"]),
            case("Bear case", &result["bear_case"]),
            Step {
                title: "Decision",
                lines: vec![
                    ("Decision", render::value(&result["decision"])),
                    ("Rationale", render::value(&result["rationale"])),
                ],
                points: Vec::new(),
            },
        ];
        Market {
            decision: render::value(&result["decision"]),
            confidence: percent(&result["confidence"]),
            as_of: render::value(&result["as_of"]),
            rationale: render::value(&result["rationale"]),
            risks: render::strings(&result["risks"]),
            indicators: render::flatten(&result["indicators"]),
            steps,
            forecast: forecast(&result["forecast"]),
        }
    })
}

pub fn journal(result: &Value) -> Option<Journal> {
    (result["task"] == "journal").then(|| Journal {
        emotions: render::strings(&result["emotions"]),
        rules_broken: render::strings(&result["rules_broken"]),
        biases: render::strings(&result["biases"]),
        advice: render::value(&result["advice"]),
    })
}

/// `0.72` → `72 %`.
fn percent(v: &Value) -> String {
    v.as_f64().map(|x| format!("{:.0} %", 100.0 * x)).unwrap_or_default()
}

/// One line on the trained model an analysis read, if any.
fn forecast(v: &Value) -> Option<String> {
    let model = v["model_job"].as_str()?;
    Some(format!(
        "It read the forecast of model {model} (trained through {}, served by {}) for the next {} bars.",
        render::value(&v["trained_through"]),
        render::value(&v["served_by"]),
        render::value(&v["horizon_bars"]),
    ))
}
