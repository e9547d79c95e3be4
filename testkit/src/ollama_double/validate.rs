//! Strict request checks: the double is pickier than Ollama (which ignores unknown fields and
//! options), so a client that passes here sends exactly what Ollama documents.

use serde_json::{Map, Value};

/// The `format` a chat asked for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Format {
    Json,
    Schema(Value),
}

/// A `/api/chat` request that passed validation.
#[derive(Debug, Clone)]
pub(crate) struct ChatCall {
    pub model: String,
    /// `(role, content)` pairs.
    pub messages: Vec<(String, String)>,
    pub stream: bool,
    pub format: Option<Format>,
    /// `options.num_predict`: the most tokens to generate (negative: no limit, as in Ollama).
    pub num_predict: Option<i64>,
    /// `options.num_ctx`: where an unlimited generation stops at the latest.
    pub num_ctx: Option<u64>,
    pub seed: Option<i64>,
}

impl ChatCall {
    pub fn last_user_message(&self) -> &str {
        let last = self.messages.iter().rev().find(|(role, _)| role == "user");
        last.map_or("", |(_, content)| content.as_str())
    }

    pub fn system_prompt(&self) -> String {
        let system = self.messages.iter().filter(|(role, _)| role == "system");
        system.map(|(_, content)| content.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// A `/api/pull` request that passed validation.
#[derive(Debug, Clone)]
pub(crate) struct PullCall {
    pub model: String,
    pub stream: bool,
}

const CHAT_FIELDS: &[&str] =
    &["model", "messages", "stream", "format", "options", "think", "keep_alive", "tools"];
const MESSAGE_FIELDS: &[&str] =
    &["role", "content", "images", "tool_calls", "thinking", "tool_name"];
const ROLES: &[&str] = &["system", "user", "assistant", "tool"];
const PULL_FIELDS: &[&str] = &["model", "name", "insecure", "stream"];

/// Ollama's runtime options (Modelfile parameters) and the JSON type each must have.
const OPTIONS: &[(&str, Kind)] = &[
    ("temperature", Kind::Number),
    ("seed", Kind::Integer),
    ("num_ctx", Kind::PositiveInteger),
    ("num_predict", Kind::Integer),
    ("num_keep", Kind::Integer),
    ("top_k", Kind::Integer),
    ("top_p", Kind::Number),
    ("min_p", Kind::Number),
    ("typical_p", Kind::Number),
    ("repeat_last_n", Kind::Integer),
    ("repeat_penalty", Kind::Number),
    ("presence_penalty", Kind::Number),
    ("frequency_penalty", Kind::Number),
    ("stop", Kind::Strings),
    ("num_batch", Kind::PositiveInteger),
    ("num_gpu", Kind::Integer),
    ("main_gpu", Kind::Integer),
    ("num_thread", Kind::Integer),
    ("use_mmap", Kind::Bool),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Number,
    Integer,
    PositiveInteger,
    Bool,
    Strings,
}

pub(crate) fn chat_request(body: &[u8]) -> Result<ChatCall, String> {
    let object = json_object(body, "/api/chat")?;
    reject_unknown(&object, CHAT_FIELDS, "/api/chat request")?;
    let model = model_name(&object, "model")?;
    let messages = match object.get("messages") {
        None => return Err("messages is required (an array of {role, content})".into()),
        Some(Value::Array(items)) => items.iter().enumerate().map(message).collect(),
        Some(other) => Err(format!("messages must be an array, got {}", kind_of(other))),
    }?;
    let stream = optional_bool(&object, "stream")?.unwrap_or(true);
    let format = object.get("format").map(format).transpose()?;
    if let Some(options) = object.get("options") {
        check_options(options)?;
    }
    let option = |name: &str| object.get("options").and_then(|o| o.get(name));
    let num_predict = option("num_predict").and_then(Value::as_i64);
    let num_ctx = option("num_ctx").and_then(Value::as_u64);
    check_think(object.get("think"))?;
    check_keep_alive(object.get("keep_alive"))?;
    if let Some(tools) = object.get("tools").filter(|t| !t.is_array()) {
        return Err(format!("tools must be an array, got {}", kind_of(tools)));
    }
    let seed = option("seed").and_then(Value::as_i64);
    Ok(ChatCall { model, messages, stream, format, num_predict, num_ctx, seed })
}

pub(crate) fn pull_request(body: &[u8]) -> Result<PullCall, String> {
    let object = json_object(body, "/api/pull")?;
    reject_unknown(&object, PULL_FIELDS, "/api/pull request")?;
    // `name` is the deprecated spelling of `model`; Ollama still accepts it.
    let key = if object.contains_key("model") { "model" } else { "name" };
    let model = model_name(&object, key)?;
    optional_bool(&object, "insecure")?;
    let stream = optional_bool(&object, "stream")?.unwrap_or(true);
    Ok(PullCall { model, stream })
}

const OPENAI_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "seed",
    "stop",
    "response_format",
    "n",
];

/// A `/v1/chat/completions` request, checked as strictly as OpenAI's own API, turned into the
/// same [`ChatCall`] (`max_tokens` is the token limit; a `response_format` schema the format).
pub(crate) fn openai_chat_request(body: &[u8]) -> Result<(ChatCall, bool), String> {
    let object = json_object(body, "/v1/chat/completions")?;
    reject_unknown(&object, OPENAI_FIELDS, "chat completion request")?;
    let model = model_name(&object, "model")?;
    let messages = match object.get("messages") {
        Some(Value::Array(items)) if !items.is_empty() => {
            items.iter().enumerate().map(message).collect::<Result<Vec<_>, _>>()?
        }
        Some(Value::Array(_)) => return Err("messages must not be empty".into()),
        Some(other) => return Err(format!("messages must be an array, got {}", kind_of(other))),
        None => return Err("messages is required".into()),
    };
    let stream = optional_bool(&object, "stream")?.unwrap_or(false);
    let include_usage = match object.get("stream_options") {
        None => false,
        Some(options) if stream => {
            options.get("include_usage").and_then(Value::as_bool) == Some(true)
        }
        Some(_) => return Err("stream_options is only allowed when stream is true".into()),
    };
    let format = match object.get("response_format") {
        None => None,
        Some(rf) => match rf.get("type").and_then(Value::as_str) {
            Some("json_schema") => match rf.get("json_schema").and_then(|j| j.get("schema")) {
                Some(schema) => Some(format(schema)?),
                None => return Err("response_format.json_schema.schema is required".into()),
            },
            Some("json_object") => Some(rf.get("schema").map_or(Ok(Format::Json), format)?),
            Some("text") => None,
            _ => return Err("response_format.type must be text, json_object or json_schema".into()),
        },
    };
    let number = |key: &str| -> Result<Option<&Value>, String> {
        match object.get(key) {
            Some(v) if !v.is_number() => Err(format!("{key} must be a number, got {}", kind_of(v))),
            other => Ok(other),
        }
    };
    let max_tokens = number("max_tokens")?.or(number("max_completion_tokens")?);
    let max_tokens = match max_tokens.map(Value::as_i64) {
        Some(Some(n)) if n >= 1 => Some(n),
        Some(_) => return Err("max_tokens must be a positive integer".into()),
        None => None,
    };
    let seed = match number("seed")?.map(Value::as_i64) {
        Some(None) => return Err("seed must be an integer".into()),
        Some(seed) => seed,
        None => None,
    };
    let temperature = number("temperature")?.and_then(Value::as_f64);
    if temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err("temperature must be between 0 and 2".into());
    }
    let call =
        ChatCall { model, messages, stream, format, num_predict: max_tokens, num_ctx: None, seed };
    Ok((call, include_usage))
}

fn json_object(body: &[u8], endpoint: &str) -> Result<Map<String, Value>, String> {
    if body.is_empty() {
        return Err(format!("{endpoint} needs a JSON body"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(format!("request body must be a JSON object, got {}", kind_of(&other))),
        Err(e) => Err(format!("request body is not valid JSON: {e}")),
    }
}

fn reject_unknown(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => {
            Err(format!("unknown field {key:?} in {what} (allowed: {})", allowed.join(", ")))
        }
        None => Ok(()),
    }
}

fn model_name(object: &Map<String, Value>, key: &str) -> Result<String, String> {
    match object.get(key) {
        None => Err("model is required".into()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{key} must not be empty")),
        Some(other) => Err(format!("{key} must be a string, got {}", kind_of(other))),
    }
}

fn message((index, value): (usize, &Value)) -> Result<(String, String), String> {
    let Value::Object(fields) = value else {
        return Err(format!("messages[{index}] must be an object, got {}", kind_of(value)));
    };
    reject_unknown(fields, MESSAGE_FIELDS, &format!("messages[{index}]"))?;
    let role = match fields.get("role") {
        Some(Value::String(role)) if ROLES.contains(&role.as_str()) => role.clone(),
        Some(Value::String(role)) => {
            return Err(format!(
                "messages[{index}].role must be one of {}, got {role:?}",
                ROLES.join(", ")
            ));
        }
        Some(other) => {
            return Err(format!("messages[{index}].role must be a string, got {}", kind_of(other)));
        }
        None => return Err(format!("messages[{index}].role is required")),
    };
    match fields.get("content") {
        Some(Value::String(content)) => Ok((role, content.clone())),
        Some(other) => {
            Err(format!("messages[{index}].content must be a string, got {}", kind_of(other)))
        }
        None => Err(format!("messages[{index}].content is required")),
    }
}

fn optional_bool(object: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("{key} must be a boolean, got {}", kind_of(other))),
    }
}

fn format(value: &Value) -> Result<Format, String> {
    match value {
        Value::String(s) if s == "json" => Ok(Format::Json),
        Value::Object(schema) => match schema.get("type") {
            Some(Value::String(_) | Value::Array(_)) => Ok(Format::Schema(value.clone())),
            Some(other) => {
                Err(format!("format schema \"type\" must be a string, got {}", kind_of(other)))
            }
            None => Err("format schema must have a \"type\" (e.g. \"object\")".into()),
        },
        other => Err(format!("format must be \"json\" or a JSON schema object, got {other}")),
    }
}

fn check_options(options: &Value) -> Result<(), String> {
    let Value::Object(options) = options else {
        return Err(format!("options must be an object, got {}", kind_of(options)));
    };
    for (key, value) in options {
        let Some((_, kind)) = OPTIONS.iter().find(|(name, _)| name == key) else {
            return Err(format!("unknown option {key:?} in options"));
        };
        let ok = match kind {
            Kind::Number => value.is_number(),
            Kind::Integer => value.is_i64() || value.is_u64(),
            Kind::PositiveInteger => value.as_u64().is_some_and(|n| n > 0),
            Kind::Bool => value.is_boolean(),
            Kind::Strings => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        };
        if !ok {
            let expected = match kind {
                Kind::Number => "a number",
                Kind::Integer => "an integer",
                Kind::PositiveInteger => "a positive integer",
                Kind::Bool => "a boolean",
                Kind::Strings => "an array of strings",
            };
            return Err(format!("options.{key} must be {expected}, got {value}"));
        }
    }
    Ok(())
}

fn check_think(think: Option<&Value>) -> Result<(), String> {
    // Besides booleans, Ollama takes a level for models such as gpt-oss.
    match think {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(Value::String(level)) if ["low", "medium", "high"].contains(&level.as_str()) => Ok(()),
        Some(other) => {
            Err(format!("think must be a boolean (or \"low\"/\"medium\"/\"high\"), got {other}"))
        }
    }
}

fn check_keep_alive(keep_alive: Option<&Value>) -> Result<(), String> {
    match keep_alive {
        None | Some(Value::Number(_)) => Ok(()),
        Some(Value::String(s)) if is_duration(s) => Ok(()),
        Some(other) => Err(format!(
            "keep_alive must be a duration such as \"5m\" or a number of seconds, got {other}"
        )),
    }
}

/// Go duration strings as Ollama parses them: "5m", "1h30m", "-1", "0".
fn is_duration(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    if s.parse::<f64>().is_ok() {
        return true;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"].iter().find(|u| rest.starts_with(**u));
        match unit {
            Some(unit) => rest = &rest[unit.len()..],
            None => return false,
        }
    }
    !s.is_empty()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
