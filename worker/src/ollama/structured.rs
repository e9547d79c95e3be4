//! Structured calls: one `/api/chat` with a JSON-schema `format`, whose reply is parsed and
//! validated against that schema, with one repair round when it does not fit.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::client::OllamaClient;
use super::error::OllamaError;
use super::types::{ChatMessage, ChatOptions, ChatRequest, ChatResponse, Format};

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

/// One structured question to the model. `schema` is sent as Ollama's `format` and checked
/// against the reply; compiled validators are cached, so passing the same schema every time
/// costs one compilation per process.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredRequest {
    pub model: String,
    pub system: String,
    pub user: String,
    pub schema: Value,
    pub options: ChatOptions,
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
    pub prompt_eval_count: Option<u64>,
    pub eval_count: Option<u64>,
    /// Ollama's own timing for the last call.
    pub total_duration: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(transparent)]
    Ollama(#[from] OllamaError),

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
    /// A schema violation counts as transient. Ollama constrains decoding to the schema, so a
    /// reply that still breaks it points to something passing: a reply cut off at
    /// `num_ctx`/`num_predict`, a model reloaded with other settings, or numerics that shift
    /// with how requests are batched (`OLLAMA_NUM_PARALLEL`), which makes even seeded,
    /// temperature-0 replies differ between runs. The retry count (`MAX_ATTEMPTS`) bounds the
    /// cost, and the last attempt's error reaches the user with the validation details.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Ollama(e) => e.is_transient(),
            Self::SchemaViolation { .. } | Self::OutputLimit { .. } => true,
            Self::InvalidSchema { .. } => false,
        }
    }
}

/// Asks `request` with `format` = its schema, `stream:false`, `think:false` and the given
/// options; validates the reply and, when it does not fit, asks once more before giving up:
/// with the bad reply and what was wrong with it ([`LlmError::SchemaViolation`]), or, when the
/// reply ran into `num_predict`, afresh with a request to be brief ([`LlmError::OutputLimit`]).
pub async fn chat_structured(
    client: &OllamaClient,
    request: &StructuredRequest,
) -> Result<StructuredReply, LlmError> {
    // Compiled before asking: a broken schema is our bug and must not cost a model call.
    let schema = compiled(&request.schema)?;
    let mut chat = ChatRequest {
        format: Some(Format::Schema(request.schema.clone())),
        options: Some(request.options),
        think: Some(false),
        ..ChatRequest::new(
            request.model.clone(),
            vec![ChatMessage::system(&request.system), ChatMessage::user(&request.user)],
        )
    };
    let first = client.chat(&chat).await?;
    let limit = request.options.num_predict;
    match interpret(&first, &schema, limit) {
        Ok(value) => return Ok(reply(first, value, 1)),
        Err(Unfit::CutOff(limit)) => {
            tracing::warn!(ollama.model = %request.model, limit, "reply cut off at the token budget; asking for a brief one");
            // The looping reply stays out of the conversation: shown its own loop, a model
            // tends to go on with it.
            chat.messages.push(ChatMessage::user(brevity_instruction(limit)));
        }
        Err(Unfit::Invalid(detail)) => {
            tracing::warn!(ollama.model = %request.model, error.detail = %detail, "reply does not fit the schema; asking once more");
            chat.messages.push(ChatMessage::assistant(first.message.content));
            chat.messages.push(ChatMessage::user(repair_instruction(&detail)));
        }
    }
    let second = client.chat(&chat).await?;
    match interpret(&second, &schema, limit) {
        Ok(value) => Ok(reply(second, value, 2)),
        Err(Unfit::CutOff(limit)) => {
            Err(LlmError::OutputLimit { model: request.model.clone(), limit })
        }
        Err(Unfit::Invalid(detail)) => Err(LlmError::SchemaViolation {
            model: request.model.clone(),
            detail,
            raw: second.message.content,
        }),
    }
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

/// The reply's JSON when it parses and fits, else why not.
fn interpret(
    response: &ChatResponse,
    schema: &JsonSchema,
    limit: Option<u32>,
) -> Result<Value, Unfit> {
    let cut_off = response.done_reason.as_deref() == Some("length");
    if let (true, Some(limit)) = (cut_off, limit) {
        return Err(Unfit::CutOff(limit));
    }
    // Without a budget of ours, a cut-off reply hit the context window.
    let note = if cut_off { " (the reply was cut off at the context window, num_ctx)" } else { "" };
    let mut value: Value = serde_json::from_str(&response.message.content)
        .map_err(|e| Unfit::Invalid(format!("the reply is not valid JSON ({e}){note}")))?;
    schema.check(&value).map_err(|violations| Unfit::Invalid(format!("{violations}{note}")))?;
    keep_declared(&mut value, schema.value());
    Ok(value)
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
         matches the required JSON schema: no prose, no code fences, every required field present."
    )
}

fn brevity_instruction(limit: u32) -> String {
    format!(
        "Your previous reply was cut off after {limit} tokens because it kept repeating itself. \
         Answer again, briefly: only the JSON object, each text one or two plain sentences."
    )
}

fn reply(response: ChatResponse, value: Value, attempts: u8) -> StructuredReply {
    StructuredReply {
        value,
        raw: response.message.content,
        model: response.model,
        attempts,
        prompt_eval_count: response.prompt_eval_count,
        eval_count: response.eval_count,
        total_duration: response.total_duration.map(Duration::from_nanos),
    }
}
