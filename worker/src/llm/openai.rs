//! OpenAI-compatible servers (vLLM, llama.cpp's servers, LM Studio, hosted APIs):
//! `POST {LLM_BASE_URL}/chat/completions`, streamed as server-sent events, and
//! `GET {LLM_BASE_URL}/models`. `LLM_BASE_URL` ends in `/v1`, as in OpenAI's own clients.
//!
//! Structured output comes in two dialects: OpenAI's `response_format: {type: "json_schema",
//! json_schema: {schema}}`, and the `{type: "json_object", schema}` form of llama.cpp's
//! servers. `LLM_RESPONSE_FORMAT=auto` starts with the first and switches for good when the
//! server rejects it with a 400 that names it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{ChatCall, Generated};
use super::endpoint::{self, Endpoint};
use super::error::{self, ServerError};
use super::stream::{CallClock, LineError, Lines, StreamLimits};
use super::structured::wire_schema;
use super::usage::CallUsage;

const CHAT: &str = "POST /chat/completions";
const MODELS: &str = "GET /models";

/// Which `response_format` the server gets (`LLM_RESPONSE_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `json_schema` until the server rejects it, then `json_object` with the schema.
    Auto,
    JsonSchema,
    JsonObject,
}

impl std::str::FromStr for ResponseFormat {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "auto" => Ok(Self::Auto),
            "json_schema" => Ok(Self::JsonSchema),
            "json_object" => Ok(Self::JsonObject),
            _ => Err("auto, json_schema or json_object".into()),
        }
    }
}

/// Cheap to clone: clones share one connection pool and what was learnt about the server.
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    base: Url,
    server: String,
    api_key: Option<Arc<str>>,
    timeout: Duration,
    format: ResponseFormat,
    /// Set once the server refused `json_schema` (with `Auto`).
    schema_refused: Arc<AtomicBool>,
    /// Set once the server refused `stream_options` (some servers validate strictly).
    stream_options_refused: Arc<AtomicBool>,
}

// Hand-written: the API key must never reach a log line.
impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("server", &self.server)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        format: ResponseFormat,
        request_timeout: Duration,
    ) -> Result<Self, ServerError> {
        let Endpoint { http, base, server } = Endpoint::parse(
            base_url,
            "LLM_BASE_URL",
            "http://host:8000/v1",
            "the OpenAI-compatible server",
            request_timeout,
        )?;
        Ok(Self {
            http,
            base,
            server,
            api_key: api_key.filter(|k| !k.is_empty()).map(Arc::from),
            timeout: request_timeout,
            format,
            schema_refused: Arc::default(),
            stream_options_refused: Arc::default(),
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// One streamed completion. A 400 that names `response_format` (with `Auto`) or
    /// `stream_options` is answered by asking again without it, once, and remembered.
    pub(crate) async fn generate(
        &self,
        call: ChatCall<'_>,
        limits: StreamLimits,
        on_tokens: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Generated, ServerError> {
        for _ in 0..3 {
            match self.generate_once(call, limits, on_tokens).await {
                Err(e) if self.learn_from(&e) => continue,
                other => return other,
            }
        }
        self.generate_once(call, limits, on_tokens).await
    }

    /// Whether `error` is the server refusing an optional part of our request, which we then
    /// stop sending.
    /// llama-cpp-python answers an unknown `response_format` type with a 500 naming it, so
    /// any status counts when the message does.
    fn learn_from(&self, error: &ServerError) -> bool {
        let Some(message) = error.server_message().filter(|_| error.status().is_some()) else {
            return false;
        };
        let message = message.to_ascii_lowercase();
        if message.contains("stream_options")
            && !self.stream_options_refused.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(llm.server = %self.server, "the server refuses stream_options; token counts come from the stream itself");
            return true;
        }
        let names_format = message.contains("response_format") || message.contains("json_schema");
        if self.format == ResponseFormat::Auto
            && names_format
            && !self.schema_refused.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(llm.server = %self.server, "the server refuses json_schema; using json_object with the schema");
            return true;
        }
        false
    }

    async fn generate_once(
        &self,
        call: ChatCall<'_>,
        limits: StreamLimits,
        on_tokens: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Generated, ServerError> {
        // Hosted APIs load nothing: every call is "warm".
        let mut clock = CallClock::start(&self.server, call.model, limits, false);
        let sent = clock.within(self.post("chat/completions", &self.body(call)).send()).await?;
        let response = clock.within(self.check_status(sent, CHAT)).await??;
        let mut lines = Lines::new(response.bytes_stream());
        let (mut content, mut finish_reason, mut usage) = (String::new(), None, None);
        let mut model = call.model.to_owned();
        while let Some(line) = clock.within(lines.next()).await? {
            let line = line.map_err(|e| self.line_error(e))?;
            // Server-sent events: `data: <json>` lines; blank lines and `:` comments between.
            let Some(data) = line.strip_prefix(b"data:") else { continue };
            let data = data.trim_ascii();
            if data == b"[DONE]" {
                break;
            }
            let chunk: Value = self.parse(data, CHAT)?;
            if let Some(error) = chunk.get("error") {
                let message = error.get("message").unwrap_or(error);
                let message = message.as_str().map_or_else(|| message.to_string(), str::to_owned);
                return Err(ServerError::Api {
                    server: self.server.clone(),
                    endpoint: CHAT,
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message,
                    retry_after: None,
                });
            }
            let chunk: Chunk = serde_json::from_value(chunk)
                .map_err(|e| self.protocol(CHAT, format!("a chunk of another shape: {e}")))?;
            if let Some(name) = chunk.model {
                model = name;
            }
            if let Some(reported) = chunk.usage {
                usage = Some(reported);
            }
            for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
                if let Some(piece) = choice.delta.and_then(|d| d.content).filter(|p| !p.is_empty())
                {
                    content.push_str(&piece);
                    // Servers send one token per chunk; the exact count comes with `usage`.
                    on_tokens(clock.tokens_arrived(1));
                }
                if choice.finish_reason.is_some() {
                    finish_reason = choice.finish_reason;
                }
            }
        }
        let Some(finish_reason) = finish_reason else {
            return Err(ServerError::Unreachable {
                server: self.server.clone(),
                endpoint: CHAT,
                detail: "the stream ended without a finish_reason (llama.cpp's Python server \
                         does so for a prompt longer than its context, or when another request \
                         interrupts it)"
                    .into(),
            });
        };
        // Servers that ignore `stream_options` (llama-cpp-python) report no usage in a stream:
        // output tokens are then the chunks counted (one token each), the prompt's estimated.
        let counted = clock.tokens_arrived(0);
        let usage = match usage {
            Some(u) => CallUsage {
                prompt_tokens: u.prompt_tokens,
                output_tokens: u.completion_tokens,
                estimated: false,
                duration: clock.elapsed(),
                first_token: clock.first_token_after(),
            },
            None => CallUsage {
                prompt_tokens: estimated_tokens(call.messages),
                output_tokens: counted,
                estimated: true,
                duration: clock.elapsed(),
                first_token: clock.first_token_after(),
            },
        };
        Ok(Generated { content, cut_off: finish_reason == "length", model, usage })
    }

    fn body(&self, call: ChatCall<'_>) -> Value {
        let schema = wire_schema(call.schema);
        let json_object = match self.format {
            ResponseFormat::JsonObject => true,
            ResponseFormat::JsonSchema => false,
            ResponseFormat::Auto => self.schema_refused.load(Ordering::Relaxed),
        };
        let response_format = if json_object {
            json!({ "type": "json_object", "schema": schema })
        } else {
            json!({
                "type": "json_schema",
                "json_schema": { "name": "reply", "schema": schema, "strict": true },
            })
        };
        let mut body = json!({
            "model": call.model,
            "messages": call.messages,
            "stream": true,
            "temperature": call.sampling.temperature,
            "seed": call.sampling.seed,
            "response_format": response_format,
        });
        if let Some(tokens) = call.max_tokens {
            body["max_tokens"] = json!(tokens);
        }
        if !self.stream_options_refused.load(Ordering::Relaxed) {
            body["stream_options"] = json!({ "include_usage": true });
        }
        body
    }

    /// Whether the server lists `model` (`GET /models`).
    pub async fn ensure_model(&self, model: &str) -> Result<(), ServerError> {
        let mut request = self.http.get(self.url("models")).timeout(self.timeout);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = self.check_status(request.send().await, MODELS).await?;
        let bytes = response.bytes().await.map_err(|e| self.transport(&e, MODELS))?;
        let list: ModelList = self.parse(&bytes, MODELS)?;
        if list.data.iter().any(|m| m.id == model) {
            return Ok(());
        }
        let served: Vec<&str> = list.data.iter().map(|m| m.id.as_str()).take(10).collect();
        Err(ServerError::ModelNotFound {
            server: self.server.clone(),
            model: model.to_owned(),
            message: format!("model \"{model}\" is not served (it serves {served:?})"),
            hint: "set OLLAMA_MODEL to one of the models the server lists".into(),
        })
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative API path joins onto a valid base URL")
    }

    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        let request = self.http.post(self.url(path)).json(body);
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    async fn check_status(
        &self,
        response: reqwest::Result<reqwest::Response>,
        endpoint: &'static str,
    ) -> Result<reqwest::Response, ServerError> {
        endpoint::check_status(response, &self.server, endpoint, self.timeout, None).await
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        body: &[u8],
        endpoint: &'static str,
    ) -> Result<T, ServerError> {
        endpoint::parse_json(body, &self.server, endpoint)
    }

    fn line_error(&self, error: LineError) -> ServerError {
        match error {
            LineError::Transport(e) => self.transport(&e, CHAT),
            LineError::TooLong => self.protocol(CHAT, "a stream line longer than 1 MiB".into()),
        }
    }

    fn transport(&self, error: &reqwest::Error, endpoint: &'static str) -> ServerError {
        error::from_transport(error, &self.server, endpoint, self.timeout)
    }

    fn protocol(&self, endpoint: &'static str, detail: String) -> ServerError {
        ServerError::Protocol { server: self.server.clone(), endpoint, detail }
    }
}

/// A rough count: a token per digit (the tokenizers of most small models split numbers into
/// digits, and our prompts are full of them), one per four other characters, and a few per
/// message for the chat template.
fn estimated_tokens(messages: &[super::ollama::ChatMessage]) -> u64 {
    let tokens = |text: &str| {
        let digits = text.chars().filter(char::is_ascii_digit).count() as u64;
        digits + (text.chars().count() as u64 - digits) / 4 + 4
    };
    messages.iter().map(|m| tokens(&m.content)).sum()
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ReportedUsage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct ReportedUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    id: String,
}
