//! Provider-neutral tests: structured calls, stall bounds and the OpenAI-compatible client,
//! against the double (`testkit::ollama_double`), which speaks both APIs and rejects malformed
//! requests with 400, so every passing call was well-formed.

mod openai;
mod stream;
mod structured;

use std::time::Duration;

use serde_json::{Value, json};
use testkit::ollama_double::OllamaDouble;

use super::ollama::OllamaClient;
use super::openai::{OpenAiClient, ResponseFormat};
use super::{
    JsonSchema, LlmClient, LlmError, StreamLimits, StructuredReply, StructuredRequest,
    chat_structured,
};

pub(crate) const MODEL: &str = "qwen2.5:3b";

/// Generous bounds: these tests are about replies, not time.
pub(crate) const LIMITS: StreamLimits = StreamLimits {
    first_token: Duration::from_secs(10),
    load: Duration::from_secs(10),
    stall: Duration::from_secs(10),
    total: Duration::from_secs(20),
};

pub(crate) fn client(double: &OllamaDouble) -> LlmClient {
    client_with_ctx(double, 4096)
}

pub(crate) fn client_with_ctx(double: &OllamaDouble, num_ctx: u32) -> LlmClient {
    let client = OllamaClient::new(&double.url(), Duration::from_secs(5)).expect("a valid URL");
    LlmClient::Ollama { client, num_ctx }
}

pub(crate) fn openai(double: &OllamaDouble, format: ResponseFormat) -> LlmClient {
    let base = format!("{}/v1", double.url());
    let client = OpenAiClient::new(&base, None, format, Duration::from_secs(5)).expect("valid");
    LlmClient::OpenAi(client)
}

pub(crate) async fn ask(
    client: &LlmClient,
    request: &StructuredRequest,
) -> Result<StructuredReply, LlmError> {
    chat_structured(client, request, LIMITS, &|_| {}).await
}

pub(crate) fn decision_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "decision": { "type": "string", "enum": ["BUY", "SELL", "HOLD"] },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
            "rationale": { "type": "string" },
            "risks": { "type": "array", "items": { "type": "string" } }
        },
        "required": ["decision", "confidence", "rationale", "risks"]
    })
}

pub(crate) fn compiled_decision_schema() -> JsonSchema {
    JsonSchema::compile(decision_schema()).expect("the decision schema compiles")
}
