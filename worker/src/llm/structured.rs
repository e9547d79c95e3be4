//! Structured calls: one chat call whose reply must follow a JSON schema, parsed and validated
//! against it, with one repair round when it does not fit.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde_json::Value;

use super::client::{ChatCall, Generated, LlmClient, Sampling};
use super::error::ServerError;
use super::ollama::ChatMessage;
use super::stream::StreamLimits;
use super::usage::Usage;

/// A compiled JSON schema, to validate replies (and anything else) against.
pub struct JsonSchema {
    value: Value,
    validator: jsonschema::Validator,
}

impl JsonSchema {
    pub fn compile(value: Value) -> Result<Self, LlmError> {
        let validator = jsonschema::validator_for(&value)
            .map_err(|e| LlmError::InvalidSchema { detail: e.to_string() })?;
        Ok(Self { value, validator })
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// `Ok` when `instance` fits; otherwise up to five violations, each with its JSON path.
    pub fn check(&self, instance: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .validator
            .iter_errors(instance)
            .take(5)
            .map(|e| {
                let path = e.instance_path.to_string();
                let at = if path.is_empty() { "the top level".to_owned() } else { path };
                format!("at {at}: {e}")
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }
}

impl fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonSchema").field("value", &self.value).finish_non_exhaustive()
    }
}

/// One structured question to the model. `schema` is sent as the reply's required format and
/// checked against the reply; compiled validators are cached, so passing the same schema every
/// time costs one compilation per process. A number the schema marks `"x-clamp": true` that
/// falls outside its `minimum`/`maximum` is clamped (and reported) instead of rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredRequest {
    /// The pipeline step asking, for logs and metrics (`analyst`, `journal`, …).
    pub step: &'static str,
    pub model: String,
    pub system: String,
    pub user: String,
    pub schema: Value,
    /// Varies per job attempt, so that a retry does not replay the same reply.
    pub seed: i64,
    /// The reply's token budget (`num_predict` / `max_tokens`).
    pub max_tokens: Option<u32>,
}

/// A reply that parsed and fits the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredReply {
    pub value: Value,
    /// The reply text exactly as the model wrote it.
    pub raw: String,
    pub model: String,
    /// 1, or 2 when the first reply needed the repair round.
    pub attempts: u8,
    /// Both calls' tokens and durations when there was a repair round.
    pub usage: Usage,
    /// Values moved into their declared range.
    pub clamped: Vec<Clamped>,
}

/// A number outside its declared range, moved to the nearest bound.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Clamped {
    pub path: String,
    pub from: f64,
    pub to: f64,
}

/// Sampling for a repair round: a little warmth, so that the model does not walk the same path
/// into the same mistake (at temperature 0 with the same seed it would, byte for byte).
const REPAIR_TEMPERATURE: f64 = 0.3;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(transparent)]
    Server(#[from] ServerError),

    /// The model answered twice (first reply, then after the repair instruction) with something
    /// that is not JSON or does not fit the schema.
    #[error(
        "model \"{model}\" did not return JSON matching the schema, even after a repair request: {detail}"
    )]
    SchemaViolation { model: String, detail: String, raw: String },

    /// Both replies (the first, then the one after a request to be brief) ran into the token
    /// budget: the model loops inside the grammar, repeating a token until it is cut off.
    #[error(
        "model \"{model}\" kept generating past {limit} tokens, twice (a reply the schema allows \
         fits in fewer; the model is looping)"
    )]
    OutputLimit { model: String, limit: u32 },

    /// The schema itself does not compile: a bug in our prompts, not in the model.
    #[error("invalid JSON schema for a structured call: {detail}")]
    InvalidSchema { detail: String },
}

impl LlmError {
    /// Whether another job attempt may succeed.
    ///
    /// A schema violation counts as transient: the next attempt runs with another seed, and
    /// servers constrain decoding to the schema, so a reply that still breaks it points to
    /// something passing (a cut-off reply, a model reloaded with other settings). The retry
    /// count (`MAX_ATTEMPTS`) bounds the cost, and the last attempt's error reaches the user
    /// with the validation details.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Server(e) => e.is_transient(),
            Self::SchemaViolation { .. } | Self::OutputLimit { .. } => true,
            Self::InvalidSchema { .. } => false,
        }
    }
}

/// Asks `request` with the schema as the required format; validates the reply and, when it
/// does not fit, asks once more (warmer) before giving up: with the bad reply and what was
/// wrong with it ([`LlmError::SchemaViolation`]), or, when the reply ran into the token budget,
/// afresh with a request to be brief ([`LlmError::OutputLimit`]).
pub async fn chat_structured(
    client: &LlmClient,
    request: &StructuredRequest,
    limits: StreamLimits,
    on_tokens: &(dyn Fn(u64) + Send + Sync),
) -> Result<StructuredReply, LlmError> {
    // Compiled before asking: a broken schema is our bug and must not cost a model call.
    let schema = compiled(&request.schema)?;
    let mut messages = vec![ChatMessage::system(&request.system), ChatMessage::user(&request.user)];
    let mut sampling = Sampling { temperature: 0.0, seed: request.seed };
    let limit = request.max_tokens;
    let mut usage = Usage::default();
    let first = generate(client, request, &messages, sampling, limits, on_tokens).await?;
    usage.add_call(&first.usage);
    match interpret(&first, &schema, limit) {
        Ok((value, clamped)) => return Ok(reply(first, value, clamped, 1, usage)),
        Err(Unfit::CutOff(limit)) => {
            tracing::warn!(llm.step = request.step, llm.model = %request.model, limit, "reply cut off at the token budget; asking for a brief one");
            // The looping reply stays out of the conversation: shown its own loop, a model
            // tends to go on with it.
            messages.push(ChatMessage::user(brevity_instruction(limit)));
        }
        Err(Unfit::Invalid(detail)) => {
            tracing::warn!(llm.step = request.step, llm.model = %request.model, error.detail = %detail, "reply does not fit the schema; asking once more");
            messages.push(ChatMessage::assistant(first.content));
            messages.push(ChatMessage::user(repair_instruction(&detail)));
        }
    }
    sampling.temperature = REPAIR_TEMPERATURE;
    let second = generate(client, request, &messages, sampling, limits, on_tokens).await?;
    usage.add_call(&second.usage);
    match interpret(&second, &schema, limit) {
        Ok((value, clamped)) => Ok(reply(second, value, clamped, 2, usage)),
        Err(Unfit::CutOff(limit)) => {
            Err(LlmError::OutputLimit { model: request.model.clone(), limit })
        }
        Err(Unfit::Invalid(detail)) => Err(LlmError::SchemaViolation {
            model: request.model.clone(),
            detail,
            raw: second.content,
        }),
    }
}

/// One call of a structured request, logged and counted.
async fn generate(
    client: &LlmClient,
    request: &StructuredRequest,
    messages: &[ChatMessage],
    sampling: Sampling,
    limits: StreamLimits,
    on_tokens: &(dyn Fn(u64) + Send + Sync),
) -> Result<Generated, LlmError> {
    let call = ChatCall {
        model: &request.model,
        messages,
        schema: &request.schema,
        sampling,
        max_tokens: request.max_tokens,
    };
    let reply = client.generate(call, limits, on_tokens).await?;
    Usage::record_call_metrics(request.step, &reply.usage);
    let usage = &reply.usage;
    tracing::info!(
        llm.step = request.step,
        llm.model = %reply.model,
        prompt_tokens = usage.prompt_tokens,
        output_tokens = usage.output_tokens,
        duration_ms = usage.duration.as_millis() as u64,
        first_token_ms = usage.first_token.map(|d| d.as_millis() as u64),
        cut_off = reply.cut_off,
        "llm call finished"
    );
    Ok(reply)
}

/// Why a reply cannot be used.
enum Unfit {
    /// It ran into the token budget (`num_predict`) and was cut off there.
    CutOff(u32),
    /// It is not JSON or does not fit the schema: what is wrong, for the repair request.
    Invalid(String),
}

/// The compiled form of `schema`, from a small process-wide cache keyed by the schema's text:
/// the pipeline sends a handful of fixed schemas thousands of times, and compiling costs far
/// more than validating.
fn compiled(schema: &Value) -> Result<Arc<JsonSchema>, LlmError> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<JsonSchema>>>> = LazyLock::new(Mutex::default);
    // Bounded so that schemas built per request cannot grow it without limit.
    const MAX_ENTRIES: usize = 64;
    let key = schema.to_string();
    let cached = CACHE.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
    if let Some(hit) = cached {
        return Ok(hit);
    }
    let fresh = Arc::new(JsonSchema::compile(schema.clone())?);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= MAX_ENTRIES {
        cache.clear();
    }
    cache.insert(key, Arc::clone(&fresh));
    Ok(fresh)
}

/// The reply's JSON (with what was clamped) when it parses and fits, else why not.
fn interpret(
    reply: &Generated,
    schema: &JsonSchema,
    limit: Option<u32>,
) -> Result<(Value, Vec<Clamped>), Unfit> {
    if let (true, Some(limit)) = (reply.cut_off, limit) {
        return Err(Unfit::CutOff(limit));
    }
    // Without a budget of ours, a cut-off reply hit the context window.
    let note = if reply.cut_off { " (the reply was cut off at the context window)" } else { "" };
    let mut value: Value = parse_lenient(&reply.content)
        .map_err(|e| Unfit::Invalid(format!("the reply is not valid JSON ({e}){note}")))?;
    let mut clamped = Vec::new();
    clamp(&mut value, schema.value(), "", &mut clamped);
    schema.check(&value).map_err(|violations| Unfit::Invalid(format!("{violations}{note}")))?;
    keep_declared(&mut value, schema.value());
    Ok((value, clamped))
}

/// Parses `text` as JSON, accepting raw control characters (a line break) inside strings, which
/// small models write under llama.cpp's JSON grammar: they mean what their escapes would.
fn parse_lenient(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(text).or_else(|strict| {
        let mut escaped = String::with_capacity(text.len() + 16);
        let (mut in_string, mut backslash) = (false, false);
        for c in text.chars() {
            match c {
                '\n' if in_string => escaped.push_str("\\n"),
                '\r' if in_string => escaped.push_str("\\r"),
                '\t' if in_string => escaped.push_str("\\t"),
                c if in_string && u32::from(c) < 0x20 => {
                    escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => {
                    in_string ^= c == '"' && !backslash;
                    escaped.push(c);
                }
            }
            backslash = c == '\\' && !backslash;
        }
        serde_json::from_str(&escaped).map_err(|_| strict)
    })
}

/// Moves numbers the schema marks `"x-clamp": true` into their `minimum`/`maximum`: a
/// confidence of 1.2 means "very sure", not a broken reply worth another call.
fn clamp(value: &mut Value, schema: &Value, path: &str, clamped: &mut Vec<Clamped>) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, member) in map.iter_mut() {
                    if let Some(member_schema) = properties.get(key) {
                        clamp(member, member_schema, &format!("{path}/{key}"), clamped);
                    }
                }
            }
        }
        Value::Number(number) if schema.get(CLAMP) == Some(&Value::Bool(true)) => {
            let Some(from) = number.as_f64() else { return };
            let low = schema.get("minimum").and_then(Value::as_f64).unwrap_or(f64::MIN);
            let high = schema.get("maximum").and_then(Value::as_f64).unwrap_or(f64::MAX);
            let to = from.clamp(low, high);
            if let (true, Some(n)) = (to != from, serde_json::Number::from_f64(to)) {
                *value = Value::Number(n);
                clamped.push(Clamped { path: path.to_owned(), from, to });
            }
        }
        _ => {}
    }
}

/// The schema keyword that marks a clampable number; ours, so it is removed before sending.
const CLAMP: &str = "x-clamp";

/// `schema` as sent to the server: without our own keywords, which a strict server rejects.
pub(crate) fn wire_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| key.as_str() != CLAMP)
                .map(|(key, member)| (key.clone(), wire_schema(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(wire_schema).collect()),
        other => other.clone(),
    }
}

/// Drops every object member the schema does not declare: a model may add fields (a hundred
/// kilobytes of them), which would otherwise be stored with the result and shown to users.
pub(crate) fn keep_declared(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                map.retain(|key, _| properties.contains_key(key));
                for (key, member) in map.iter_mut() {
                    keep_declared(member, &properties[key]);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items.iter_mut().for_each(|item| keep_declared(item, item_schema));
            }
        }
        _ => {}
    }
}

fn repair_instruction(detail: &str) -> String {
    format!(
        "Your previous reply was rejected: {detail}. Answer again with only a JSON value that \
         matches the required JSON schema, keeping every value within the bounds named above: no \
         prose, no code fences, every required field present."
    )
}

fn brevity_instruction(limit: u32) -> String {
    format!(
        "Your previous reply was cut off after {limit} tokens because it kept repeating itself. \
         Answer again, briefly: only the JSON object, each text one or two plain sentences."
    )
}

fn reply(
    generated: Generated,
    value: Value,
    clamped: Vec<Clamped>,
    attempts: u8,
    usage: Usage,
) -> StructuredReply {
    StructuredReply {
        value,
        raw: generated.content,
        model: generated.model,
        attempts,
        usage,
        clamped,
    }
}
