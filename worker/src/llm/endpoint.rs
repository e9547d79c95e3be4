//! What both clients need of a configured base URL: the parsed URL, an HTTP client, and the
//! words that name the server in messages, credentials redacted.

use std::time::Duration;

use reqwest::Url;

use serde::de::DeserializeOwned;

use super::error::{self, ServerError};

pub(crate) struct Endpoint {
    pub http: reqwest::Client,
    /// With a trailing slash, so that `join("api/chat")` keeps a path prefix such as `/ollama`.
    pub base: Url,
    /// e.g. "Ollama at http://admin:***@host:11434".
    pub server: String,
}

impl Endpoint {
    /// `setting` names the variable in errors; `example` shows a good value; `kind` names the
    /// server ("Ollama"). Credentials in the URL are sent (reqwest turns them into basic auth)
    /// but never shown.
    pub fn parse(
        base_url: &str,
        setting: &'static str,
        example: &str,
        kind: &str,
        timeout: Duration,
    ) -> Result<Self, ServerError> {
        let invalid = |reason: String| ServerError::InvalidUrl {
            setting,
            url: shared::redact::redact_url(base_url),
            reason: shared::redact::redact_urls_in(&reason),
        };
        let trimmed = base_url.trim().trim_end_matches('/');
        let base = Url::parse(&format!("{trimmed}/")).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(invalid(format!("expected e.g. {example}")));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tradeforge-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("could not build an HTTP client: {e}")))?;
        let server = format!("{kind} at {}", shared::redact::redact_url(trimmed));
        Ok(Self { http, base, server })
    }
}

/// Turns a sent request into a 2xx response, or the error its status and body describe. With
/// `model` (Ollama), a 404 naming it is "model not found".
pub(crate) async fn check_status(
    response: reqwest::Result<reqwest::Response>,
    server: &str,
    endpoint: &'static str,
    timeout: Duration,
    model: Option<&str>,
) -> Result<reqwest::Response, ServerError> {
    let transport = |e: &reqwest::Error| error::from_transport(e, server, endpoint, timeout);
    let response = response.map_err(|e| transport(&e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| transport(&e))?;
    Err(error::from_status(status, &headers, &body, server, endpoint, model))
}

/// `body` as JSON of type `T`, or a protocol error quoting its start.
pub(crate) fn parse_json<T: DeserializeOwned>(
    body: &[u8],
    server: &str,
    endpoint: &'static str,
) -> Result<T, ServerError> {
    serde_json::from_slice(body).map_err(|e| {
        let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
        let detail = format!("{e} in {preview:?}");
        ServerError::Protocol { server: server.to_owned(), endpoint, detail }
    })
}
