//! What can go wrong talking to the model server (Ollama, or an OpenAI-compatible one), worded
//! for the person who has to fix it, and split into transient (retry the job attempt) and
//! permanent (fail the job now). `server` reads "Ollama at http://…" or "the OpenAI-compatible
//! server at http://…", credentials redacted.

use std::time::Duration;

use reqwest::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// `OLLAMA_URL` / `LLM_BASE_URL` is not an http(s) URL.
    #[error("{setting} {url:?} is not usable: {reason}")]
    InvalidUrl { setting: &'static str, url: String, reason: String },

    /// No TCP connection, or it broke before a whole answer arrived (refused, reset, DNS).
    #[error(
        "could not talk to {server} ({endpoint}): {detail}; is the server running and its URL \
         (OLLAMA_URL, or LLM_BASE_URL) right?"
    )]
    Unreachable { server: String, endpoint: &'static str, detail: String },

    /// A short request (model list, pull headers) took longer than `OLLAMA_TIMEOUT_S`.
    #[error("{server} did not answer {endpoint} within {timeout:?}")]
    Timeout { server: String, endpoint: &'static str, timeout: Duration },

    /// No token within the first-token bound: the prompt is still being read, the model is
    /// loading, or the server is queueing us behind others.
    #[error(
        "{server} sent no token of model \"{model}\" within {waited:?} of the request \
         ({setting}); the server is overloaded or the model is still loading"
    )]
    FirstTokenTimeout { server: String, model: String, waited: Duration, setting: &'static str },

    /// Tokens were coming, then none for the stall bound.
    #[error(
        "{server} stopped generating with model \"{model}\": no token for {silence:?} after \
         {tokens} tokens (OLLAMA_STALL_TIMEOUT_S)"
    )]
    Stalled { server: String, model: String, silence: Duration, tokens: u64 },

    /// Still generating at the overall cap.
    #[error(
        "{server} was still generating with model \"{model}\" after {cap:?} ({tokens} tokens \
         so far; the overall cap is OLLAMA_TIMEOUT_S)"
    )]
    TooSlow { server: String, model: String, cap: Duration, tokens: u64 },

    /// The server does not have the model (Ollama: 404 with its `{"error"}` body, or missing
    /// from the tags; OpenAI-compatible: not among `/v1/models`). `hint` says how to fix it.
    #[error("{server}: {message} ({hint})")]
    ModelNotFound { server: String, model: String, message: String, hint: String },

    /// Any other non-2xx answer; `message` is the server's own error text when it sent one.
    /// `retry_after` is the server's `Retry-After`, when it sent one.
    #[error("{server} answered {endpoint} with {status}{}: {message}", busy_note(*.status))]
    Api {
        server: String,
        endpoint: &'static str,
        status: StatusCode,
        message: String,
        retry_after: Option<Duration>,
    },

    /// A 2xx answer that is not the documented shape.
    #[error("{server} sent an unexpected {endpoint} response: {detail}")]
    Protocol { server: String, endpoint: &'static str, detail: String },

    /// An `{"error": ..}` line inside the `/api/pull` stream.
    #[error("{server} could not pull model \"{model}\": {message}")]
    PullFailed { server: String, model: String, message: String },

    /// The `/api/pull` stream ended without its final `{"status":"success"}`.
    #[error(
        "{server} stopped streaming the pull of \"{model}\" before it finished (last status: \
         {last_status:?})"
    )]
    PullIncomplete { server: String, model: String, last_status: Option<String> },
}

/// Says in words what 503 and 429 mean for the job: wait, the server is full.
fn busy_note(status: StatusCode) -> &'static str {
    match status {
        StatusCode::SERVICE_UNAVAILABLE => " (server busy)",
        StatusCode::TOO_MANY_REQUESTS => " (rate limited)",
        _ => "",
    }
}

impl ServerError {
    /// Worth retrying later: the server was unreachable, slow, stalled, overloaded or crashed
    /// (5xx, 429, Ollama's 503 "server busy"), or a stream broke off. Bad requests, unknown
    /// models, refused credentials and malformed answers will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. }
            | Self::Timeout { .. }
            | Self::FirstTokenTimeout { .. }
            | Self::Stalled { .. }
            | Self::TooSlow { .. }
            | Self::PullIncomplete { .. } => true,
            Self::Api { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
            }
            Self::PullFailed { message, .. } => !pull_message_is_permanent(message),
            Self::InvalidUrl { .. } | Self::ModelNotFound { .. } | Self::Protocol { .. } => false,
        }
    }

    /// Whether the server said it is full (503, 429): worth waiting a while, not a moment.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.status(),
            Some(StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS)
        )
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status the server answered with, when the failure came from an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::ModelNotFound { .. } => Some(StatusCode::NOT_FOUND),
            _ => None,
        }
    }

    /// The server's own error text, verbatim, when it sent one.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. }
            | Self::ModelNotFound { message, .. }
            | Self::PullFailed { message, .. } => Some(message),
            _ => None,
        }
    }

    pub fn is_model_not_found(&self) -> bool {
        matches!(self, Self::ModelNotFound { .. })
    }
}

/// A pull error that names a model the registry does not have will not heal by retrying;
/// download and network errors (resets, timeouts, "max retries exceeded") may.
fn pull_message_is_permanent(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["file does not exist", "not found", "invalid model name", "unauthorized"]
        .iter()
        .any(|phrase| message.contains(phrase))
}

/// Turns a transport error into words, keeping the innermost cause ("connection refused").
pub(crate) fn from_transport(
    error: &reqwest::Error,
    server: &str,
    endpoint: &'static str,
    timeout: Duration,
) -> ServerError {
    if error.is_timeout() {
        return ServerError::Timeout { server: server.into(), endpoint, timeout };
    }
    ServerError::Unreachable { server: server.into(), endpoint, detail: root_cause(error) }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let detail = innermost.to_string();
    // hyper's "connection closed before message completed" says more than reqwest's wrapper.
    let detail = if detail.is_empty() { error.to_string() } else { detail };
    // reqwest's own text names the URL, credentials included.
    shared::redact::redact_urls_in(&detail)
}

/// The server's own error text: Ollama's `{"error": "…"}`, OpenAI's `{"error": {"message":
/// "…"}}`, or FastAPI's `{"detail": …}` (llama.cpp's Python server).
fn error_text(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    match (value.get("error"), value.get("detail")) {
        (Some(error), _) => Some(error.get("message").map_or_else(|| text(error), text)),
        (None, Some(detail)) => Some(text(detail).chars().take(500).collect()),
        (None, None) => None,
    }
}

pub(crate) fn ollama_pull_hint(model: &str) -> String {
    format!("pull it with `ollama pull {model}` or set OLLAMA_PULL=true")
}

/// `Retry-After` in seconds (the HTTP-date form is rare from model servers and ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3_600.0)))
}

/// Maps a non-2xx answer. With `model` set (Ollama), a 404 is "model not found" only when
/// the server said so in a JSON body; a plain-text 404 means the URL points at something else.
pub(crate) fn from_status(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    server: &str,
    endpoint: &'static str,
    model: Option<&str>,
) -> ServerError {
    let retry_after = retry_after(headers);
    let api = |message: String| ServerError::Api {
        server: server.into(),
        endpoint,
        status,
        message,
        retry_after,
    };
    match (status, error_text(body), model) {
        (StatusCode::NOT_FOUND, Some(message), Some(model)) => ServerError::ModelNotFound {
            server: server.into(),
            model: model.into(),
            message,
            hint: ollama_pull_hint(model),
        },
        (_, Some(message), _) => api(message),
        (_, None, _) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let mut message = if text.is_empty() {
                "(empty body)".to_owned()
            } else {
                text.chars().take(300).collect()
            };
            if status == StatusCode::NOT_FOUND {
                message.push_str(" (is the URL setting the address of the model server?)");
            }
            api(message)
        }
    }
}
