//! `OllamaClient`: our own thin reqwest client for Ollama's native API. Not `ollama-rs`: it
//! loses HTTP status codes and drops `{"error"}` lines in streams, and the retry policy needs
//! both.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{self, OllamaError};
use super::types::{ChatRequest, ChatResponse, ModelSummary, PullProgress, TagsResponse};

const CHAT: &str = "POST /api/chat";
const TAGS: &str = "GET /api/tags";
const PULL: &str = "POST /api/pull";

/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct OllamaClient {
    http: reqwest::Client,
    base: Url,
    /// `base` as users wrote it, without a trailing slash, for messages.
    display_url: String,
    timeout: Duration,
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
    pub fn new(base_url: &str, request_timeout: Duration) -> Result<Self, OllamaError> {
        let invalid = |reason: String| OllamaError::InvalidUrl {
            url: shared::redact::redact_url(base_url),
            reason: shared::redact::redact_urls_in(&reason),
        };
        let trimmed = base_url.trim().trim_end_matches('/');
        // A trailing slash makes `join("api/chat")` keep a path prefix such as `/ollama`.
        let base = Url::parse(&format!("{trimmed}/")).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(invalid("expected http://host:port or https://host:port".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tradeforge-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("could not build an HTTP client: {e}")))?;
        // Credentials in the URL are sent (reqwest turns them into basic auth) but never shown.
        let display_url = shared::redact::redact_url(trimmed);
        Ok(Self { http, base, display_url, timeout: request_timeout })
    }

    /// The server's base URL as configured, for messages and logs.
    pub fn base_url(&self) -> &str {
        &self.display_url
    }

    /// One non-streamed chat completion (`stream: false`).
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, OllamaError> {
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
    pub async fn list_models(&self) -> Result<Vec<ModelSummary>, OllamaError> {
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
    ) -> Result<(), OllamaError> {
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
        Err(OllamaError::PullIncomplete {
            url: self.display_url.clone(),
            model: model.into(),
            last_status,
        })
    }

    /// Parses one NDJSON line of a pull: progress, an error, or nothing for a blank line.
    fn pull_line(&self, line: &[u8], model: &str) -> Result<Option<PullProgress>, OllamaError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let value: serde_json::Value = self.parse(line, PULL)?;
        if let Some(message) = value.get("error") {
            let message = message.as_str().map_or_else(|| message.to_string(), str::to_owned);
            let url = self.display_url.clone();
            return Err(OllamaError::PullFailed { url, model: model.into(), message });
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

    /// Turns a sent request into a 2xx response, or the error its status and body describe.
    async fn check_status(
        &self,
        response: reqwest::Result<reqwest::Response>,
        endpoint: &'static str,
        model: Option<&str>,
    ) -> Result<reqwest::Response, OllamaError> {
        let response = response.map_err(|e| self.transport(&e, endpoint))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.map_err(|e| self.transport(&e, endpoint))?;
        Err(error::from_status(status, &body, &self.display_url, endpoint, model))
    }

    /// The whole body of a 2xx response.
    async fn read_ok(
        &self,
        response: reqwest::Result<reqwest::Response>,
        endpoint: &'static str,
        model: Option<&str>,
    ) -> Result<Vec<u8>, OllamaError> {
        let response = self.check_status(response, endpoint, model).await?;
        let body = response.bytes().await.map_err(|e| self.transport(&e, endpoint))?;
        Ok(body.into())
    }

    fn parse<T: DeserializeOwned>(
        &self,
        body: &[u8],
        endpoint: &'static str,
    ) -> Result<T, OllamaError> {
        serde_json::from_slice(body).map_err(|e| {
            let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
            self.protocol(endpoint, format!("{e} in {preview:?}"))
        })
    }

    fn transport(&self, error: &reqwest::Error, endpoint: &'static str) -> OllamaError {
        error::from_transport(error, &self.display_url, endpoint, self.timeout)
    }

    fn timeout_error(&self, endpoint: &'static str) -> OllamaError {
        OllamaError::Timeout { url: self.display_url.clone(), endpoint, timeout: self.timeout }
    }

    fn protocol(&self, endpoint: &'static str, detail: String) -> OllamaError {
        OllamaError::Protocol { url: self.display_url.clone(), endpoint, detail }
    }
}
