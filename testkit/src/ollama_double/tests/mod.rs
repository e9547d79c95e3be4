//! The double's honesty: it speaks Ollama's wire format, rejects what Ollama documents as
//! invalid (and more), and its generated replies satisfy the schema they were asked for.

mod faults;
mod models;
mod replies;
mod schemas;
mod validation;

use serde_json::{Value, json};

use super::OllamaDouble;

/// The decision schema of the market pipeline's last step.
pub(super) fn decision_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "decision": { "type": "string", "enum": ["BUY", "SELL", "HOLD"] },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
            "rationale": { "type": "string", "minLength": 40 },
            "risks": { "type": "array", "items": { "type": "string" }, "minItems": 2, "uniqueItems": true }
        },
        "required": ["decision", "confidence", "rationale", "risks"],
        "additionalProperties": false
    })
}

/// A request the double must accept; `extra` fields are merged over it.
pub(super) fn chat_body(extra: Value) -> Value {
    let mut body = json!({
        "model": "qwen2.5:3b",
        "messages": [
            { "role": "system", "content": "You are a careful analyst." },
            { "role": "user", "content": "Decide on GOOG." }
        ],
        "stream": false,
        "format": decision_schema(),
        "options": { "temperature": 0.0, "seed": 42, "num_ctx": 8192 },
        "think": false,
        "keep_alive": "5m"
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

pub(super) fn is_valid(schema: &Value, instance: &Value) -> bool {
    jsonschema::validator_for(schema).expect("test schema compiles").is_valid(instance)
}

/// POSTs `body` (sent verbatim) and returns the status and the body text.
pub(super) async fn post_raw(double: &OllamaDouble, path: &str, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", double.url()))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the double answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a complete body"))
}

pub(super) async fn post(double: &OllamaDouble, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = post_raw(double, path, &body.to_string()).await;
    let parsed =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text:?} is not JSON: {e}"));
    (status, parsed)
}

/// Parses an NDJSON body into its objects.
pub(super) fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect()
}
