//! `OllamaClient`: our own thin reqwest client for Ollama's native API. Not `ollama-rs`: it
//! loses HTTP status codes and drops `{"error"}` lines in streams, and the retry policy needs
//! both.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{ChatRequest, ChatResponse, ModelSummary, PullProgress, TagsResponse};
use crate::llm::endpoint::{self, Endpoint};
use crate::llm::error::{self, ServerError};
use crate::llm::stream::{CallClock, LineError, Lines, StreamLimits};

const CHAT: &str = "POST /api/chat";
const TAGS: &str = "GET /api/tags";
const PULL: &str = "POST /api/pull";

/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct OllamaClient {
    http: reqwest::Client,
    base: Url,
    /// "Ollama at <base as users wrote it>", credentials redacted, for messages.
    server: String,
    timeout: Duration,
    /// Models that have answered since start-up: their first token is not waiting on a load.
    warm: Arc<Mutex<HashSet<String>>>,
}

/// `stream` is set per call: chat and tags are one JSON answer, pull is a stream.
#[derive(Serialize)]
struct Streamed<'a, T: Serialize> {
    #[serde(flatten)]
    body: &'a T,
    stream: bool,
}

#[derive(Serialize)]
struct PullBody<'a> {
    model: &'a str,
}

impl OllamaClient {
    /// `request_timeout` bounds each chat and tags call from connect to last byte; for a pull,
    /// which can take many minutes, it bounds the silence between two progress lines instead.
    pub fn new(base_url: &str, request_timeout: Duration) -> Result<Self, ServerError> {
        let Endpoint { http, base, server } = Endpoint::parse(
            base_url,
            "OLLAMA_URL",
            "http://host:11434",
            "Ollama",
            request_timeout,
        )?;
        Ok(Self { http, base, server, timeout: request_timeout, warm: Arc::default() })
    }

    /// "Ollama at <URL>", for messages and logs.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// A streamed chat completion (`stream: true`), assembled into one [`ChatResponse`], under
    /// `limits` ([`StreamLimits`]); `on_tokens` gets the running count of generated tokens.
    pub async fn chat_streamed(
        &self,
        request: &ChatRequest,
        limits: StreamLimits,
        on_tokens: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ChatResponse, ServerError> {
        let model = request.model.as_str();
        let cold = !self.warm.lock().unwrap_or_else(PoisonError::into_inner).contains(model);
        let mut clock = CallClock::start(&self.server, model, limits, cold);
        let body = Streamed { body: request, stream: true };
        let sent = clock.within(self.post("api/chat", &body).send()).await?;
        let response = clock.within(self.check_status(sent, CHAT, Some(model))).await??;
        let mut lines = Lines::new(response.bytes_stream());
        let mut content = String::new();
        while let Some(line) = clock.within(lines.next()).await? {
            let line = line.map_err(|e| self.line_error(e))?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: serde_json::Value = self.parse(&line, CHAT)?;
            if let Some(message) = value.get("error") {
                // Ollama reports a failure mid-generation as an `{"error"}` line with a 200.
                let message = message.as_str().map_or_else(|| message.to_string(), str::to_owned);
                let status = reqwest::StatusCode::INTERNAL_SERVER_ERROR;
                let server = self.server.clone();
                return Err(ServerError::Api {
                    server,
                    endpoint: CHAT,
                    status,
                    message,
                    retry_after: None,
                });
            }
            let mut piece: ChatResponse = serde_json::from_value(value)
                .map_err(|e| self.protocol(CHAT, format!("a stream line of another shape: {e}")))?;
            if !piece.message.content.is_empty() {
                content.push_str(&piece.message.content);
                on_tokens(clock.tokens_arrived(1));
            }
            if piece.done {
                self.warm.lock().unwrap_or_else(PoisonError::into_inner).insert(model.to_owned());
                piece.message.content = std::mem::take(&mut content);
                return Ok(piece);
            }
        }
        Err(ServerError::Unreachable {
            server: self.server.clone(),
            endpoint: CHAT,
            detail: format!(
                "the stream ended without its final \"done\" line after {:.1}s",
                clock.elapsed().as_secs_f64()
            ),
        })
    }

    fn line_error(&self, error: LineError) -> ServerError {
        match error {
            LineError::Transport(e) => self.transport(&e, CHAT),
            LineError::TooLong => self.protocol(CHAT, "a stream line longer than 1 MiB".into()),
        }
    }

    /// One non-streamed chat completion (`stream: false`).
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ServerError> {
        let body = Streamed { body: request, stream: false };
        let response = self.post("api/chat", &body).timeout(self.timeout).send().await;
        let bytes = self.read_ok(response, CHAT, Some(&request.model)).await?;
        let reply: ChatResponse = self.parse(&bytes, CHAT)?;
        if !reply.done {
            return Err(self.protocol(CHAT, "a non-streamed reply must have \"done\": true".into()));
        }
        Ok(reply)
    }

    /// The locally installed models (`GET /api/tags`).
    pub async fn list_models(&self) -> Result<Vec<ModelSummary>, ServerError> {
        let url = self.url("api/tags");
        let response = self.http.get(url).timeout(self.timeout).send().await;
        let bytes = self.read_ok(response, TAGS, None).await?;
        Ok(self.parse::<TagsResponse>(&bytes, TAGS)?.models)
    }

    /// Pulls `model`, calling `on_progress` for each streamed status line. An `{"error"}` line
    /// in the stream fails the pull; a stream that ends without `success` is transient.
    pub async fn pull(
        &self,
        model: &str,
        mut on_progress: impl FnMut(&PullProgress),
    ) -> Result<(), ServerError> {
        let body = Streamed { body: &PullBody { model }, stream: true };
        // No whole-request timeout (a pull can take many minutes), so bound the wait for the
        // answer's headers here and each silence in the stream below.
        let response = tokio::time::timeout(self.timeout, self.post("api/pull", &body).send())
            .await
            .map_err(|_elapsed| self.timeout_error(PULL))?;
        let response = self.check_status(response, PULL, None).await?;
        let mut chunks = response.bytes_stream();
        let mut pending = Vec::new();
        let mut last_status = None;
        loop {
            let next = tokio::time::timeout(self.timeout, chunks.next()).await;
            let chunk = match next {
                Err(_elapsed) => return Err(self.timeout_error(PULL)),
                Ok(None) => break,
                Ok(Some(chunk)) => chunk.map_err(|e| self.transport(&e, PULL))?,
            };
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if let Some(progress) = self.pull_line(&line, model)? {
                    on_progress(&progress);
                    if progress.is_success() {
                        return Ok(());
                    }
                    last_status = Some(progress.status);
                }
            }
        }
        // The last line may lack its newline.
        if let Some(progress) = self.pull_line(&pending, model)? {
            on_progress(&progress);
            if progress.is_success() {
                return Ok(());
            }
            last_status = Some(progress.status);
        }
        Err(ServerError::PullIncomplete {
            server: self.server.clone(),
            model: model.into(),
            last_status,
        })
    }

    /// Parses one NDJSON line of a pull: progress, an error, or nothing for a blank line.
    fn pull_line(&self, line: &[u8], model: &str) -> Result<Option<PullProgress>, ServerError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let value: serde_json::Value = self.parse(line, PULL)?;
        if let Some(message) = value.get("error") {
            let message = message.as_str().map_or_else(|| message.to_string(), str::to_owned);
            let server = self.server.clone();
            return Err(ServerError::PullFailed { server, model: model.into(), message });
        }
        let progress = serde_json::from_value(value)
            .map_err(|e| self.protocol(PULL, format!("a progress line without a status: {e}")))?;
        Ok(Some(progress))
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative API path joins onto a valid base URL")
    }

    fn post<T: Serialize>(&self, path: &str, body: &T) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).json(body)
    }

    async fn check_status(
        &self,
        response: reqwest::Result<reqwest::Response>,
        endpoint: &'static str,
        model: Option<&str>,
    ) -> Result<reqwest::Response, ServerError> {
        endpoint::check_status(response, &self.server, endpoint, self.timeout, model).await
    }

    /// The whole body of a 2xx response.
    async fn read_ok(
        &self,
        response: reqwest::Result<reqwest::Response>,
        endpoint: &'static str,
        model: Option<&str>,
    ) -> Result<Vec<u8>, ServerError> {
        let response = self.check_status(response, endpoint, model).await?;
        let body = response.bytes().await.map_err(|e| self.transport(&e, endpoint))?;
        Ok(body.into())
    }

    fn parse<T: DeserializeOwned>(
        &self,
        body: &[u8],
        endpoint: &'static str,
    ) -> Result<T, ServerError> {
        endpoint::parse_json(body, &self.server, endpoint)
    }

    fn transport(&self, error: &reqwest::Error, endpoint: &'static str) -> ServerError {
        error::from_transport(error, &self.server, endpoint, self.timeout)
    }

    fn timeout_error(&self, endpoint: &'static str) -> ServerError {
        ServerError::Timeout { server: self.server.clone(), endpoint, timeout: self.timeout }
    }

    fn protocol(&self, endpoint: &'static str, detail: String) -> ServerError {
        ServerError::Protocol { server: self.server.clone(), endpoint, detail }
    }
}
