//! The LLM steps' instructions and JSON schemas (sent as Ollama's `format`, and used to
//! validate every reply).

use serde_json::{Value, json};

pub const ANALYST_SYSTEM: &str = "You are a disciplined technical analyst. You read price \
history and indicator values and describe what they show, without predicting beyond the data. \
Answer with JSON only, matching the given schema.";

pub const DEBATER_SYSTEM: &str = "You argue one side of an investment debate using only the \
analyst report and figures you are given. Be specific, cite the numbers. Answer with JSON only, \
matching the given schema.";

pub const JUDGE_SYSTEM: &str = "You are a risk-aware portfolio manager. Weigh the analyst report \
and both cases and decide BUY, SELL or HOLD for the stated date. Prefer HOLD when the evidence is \
mixed. Confidence is a probability between 0 and 1. Answer with JSON only, matching the given schema.";

pub const JOURNAL_SYSTEM: &str = "You are a trading coach reviewing a trader's journal entry. \
Name the emotions it shows, the trading rules it says or implies were broken, the cognitive \
biases at work, and give short, concrete advice. Answer with JSON only, matching the given schema.";

fn strings(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string", "minLength": 1}, "description": description})
}

pub fn analyst_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string", "minLength": 1},
            "trend": {"type": "string", "enum": ["up", "down", "sideways"]},
            "momentum": {"type": "string", "minLength": 1},
            "volatility": {"type": "string", "minLength": 1},
            "signals": strings("notable technical signals"),
        },
        "required": ["summary", "trend", "momentum", "volatility", "signals"]
    })
}

pub fn case_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "thesis": {"type": "string", "minLength": 1},
            "arguments": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            "strength": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["thesis", "arguments", "strength"]
    })
}

pub fn decision_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "decision": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string", "minLength": 1},
            "risks": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        },
        "required": ["decision", "confidence", "rationale", "risks"]
    })
}

pub fn journal_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "emotions": strings("emotions the entry shows"),
            "rules_broken": strings("trading rules broken"),
            "biases": strings("cognitive biases at work"),
            "advice": {"type": "string", "minLength": 1},
        },
        "required": ["emotions", "rules_broken", "biases", "advice"]
    })
}
