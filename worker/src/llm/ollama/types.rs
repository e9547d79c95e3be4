//! Ollama's wire types, field for field as in its API docs (`docs/api.md`). Durations are in
//! nanoseconds and counts in tokens, as Ollama reports them.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into() }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into() }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: content.into() }
    }
}

/// `format`: JSON mode (`"json"`) or a JSON schema the reply must follow.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Json,
    Schema(Value),
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Format::Json => serializer.serialize_str("json"),
            Format::Schema(schema) => schema.serialize(serializer),
        }
    }
}

/// The runtime `options` we set on every call. They are explicit because Ollama's defaults
/// differ per model and version (a 2048-token default `num_ctx` silently truncates long
/// prompts; `num_predict` is unlimited), and results must be reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChatOptions {
    pub temperature: f64,
    pub seed: i64,
    pub num_ctx: u32,
    /// The most tokens the reply may take; Ollama stops there with `done_reason: "length"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_predict: Option<u32>,
}

impl ChatOptions {
    /// Temperature 0 with a fixed seed: the same prompt gets the same reply.
    pub fn deterministic(seed: i64, num_ctx: u32) -> Self {
        Self { temperature: 0.0, seed, num_ctx, num_predict: None }
    }

    pub fn with_num_predict(self, tokens: u32) -> Self {
        Self { num_predict: Some(tokens), ..self }
    }
}

/// A `/api/chat` request. `stream` is not here: the client decides it per call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<ChatOptions>,
    /// `Some(false)` keeps thinking models from spending tokens on a hidden monologue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub think: Option<bool>,
    /// How long Ollama keeps the model loaded afterwards, e.g. `"5m"` or `"-1"` (forever).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<String>,
}

impl ChatRequest {
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            format: None,
            options: None,
            think: None,
            keep_alive: None,
        }
    }
}

/// The `/api/chat` answer (`stream: false`), and each line of a streamed one: a piece of the
/// message, the last line (`done: true`) with the statistics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatResponse {
    pub model: String,
    pub created_at: String,
    pub message: ChatMessage,
    pub done: bool,
    /// `stop`, or `length` when the reply hit `num_predict`/`num_ctx` and was cut off.
    #[serde(default)]
    pub done_reason: Option<String>,
    #[serde(default)]
    pub total_duration: Option<u64>,
    #[serde(default)]
    pub load_duration: Option<u64>,
    #[serde(default)]
    pub prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub prompt_eval_duration: Option<u64>,
    #[serde(default)]
    pub eval_count: Option<u64>,
    #[serde(default)]
    pub eval_duration: Option<u64>,
}

/// One entry of `GET /api/tags`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelSummary {
    pub name: String,
    /// Same as `name` on current Ollama; absent on old versions.
    #[serde(default)]
    pub model: Option<String>,
    pub modified_at: String,
    pub size: u64,
    pub digest: String,
    #[serde(default)]
    pub details: ModelDetails,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ModelDetails {
    #[serde(default)]
    pub parent_model: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default)]
    pub families: Option<Vec<String>>,
    #[serde(default)]
    pub parameter_size: Option<String>,
    #[serde(default)]
    pub quantization_level: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct TagsResponse {
    pub models: Vec<ModelSummary>,
}

/// One line of the `/api/pull` stream. `total`/`completed` come with download lines only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullProgress {
    pub status: String,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub completed: Option<u64>,
}

impl PullProgress {
    pub fn is_success(&self) -> bool {
        self.status == "success"
    }
}
