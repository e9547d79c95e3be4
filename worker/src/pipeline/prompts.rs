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

/// Bounds on every string and list of a reply, so that a compliant reply always fits the
/// step's token budget (`num_predict`, derived from the schema) and a looping one is cut soon.
const SHORT_TEXT: u64 = 160;
const TEXT: u64 = 200;
const PARAGRAPH: u64 = 400;

fn text(max_length: u64) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max_length})
}

fn list(description: &str, min_items: u64, max_items: u64, max_length: u64) -> Value {
    json!({
        "type": "array",
        "items": text(max_length),
        "minItems": min_items,
        "maxItems": max_items,
        "description": description,
    })
}

pub fn analyst_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": text(PARAGRAPH),
            "trend": {"type": "string", "enum": ["up", "down", "sideways"]},
            "momentum": text(TEXT),
            "volatility": text(TEXT),
            "signals": list("notable technical signals", 0, 5, SHORT_TEXT),
        },
        "required": ["summary", "trend", "momentum", "volatility", "signals"]
    })
}

pub fn case_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "thesis": text(PARAGRAPH),
            "arguments": list("the arguments, strongest first", 1, 4, TEXT),
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
            "rationale": text(PARAGRAPH),
            "risks": list("the main risks of this decision", 1, 4, SHORT_TEXT),
        },
        "required": ["decision", "confidence", "rationale", "risks"]
    })
}

pub fn journal_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "emotions": list("emotions the entry shows", 0, 5, 100),
            "rules_broken": list("trading rules broken", 0, 5, 100),
            "biases": list("cognitive biases at work", 0, 5, 100),
            "advice": text(PARAGRAPH),
        },
        "required": ["emotions", "rules_broken", "biases", "advice"]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ollama::output_tokens;

    /// Every step's reply is bounded, with a budget a small CPU model writes in a few minutes
    /// at worst (about 5 tokens/s) while the usual reply (~160 tokens) fits several times over.
    #[test]
    fn every_reply_schema_is_bounded_and_its_budget_is_modest() {
        let schemas = [analyst_schema(), case_schema(), decision_schema(), journal_schema()];
        for schema in schemas {
            let budget =
                output_tokens(&schema).unwrap_or_else(|path| panic!("unbounded at {path}"));
            assert!((400..=900).contains(&budget), "{budget} tokens for {schema}");
        }
    }
}
