//! What can go wrong talking to Ollama, worded for the person who has to fix it, and split into
//! transient (retry the job attempt) and permanent (fail the job now).

use std::time::Duration;

use reqwest::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum OllamaError {
    /// `OLLAMA_URL` is not an http(s) URL.
    #[error("OLLAMA_URL {url:?} is not usable: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// No TCP connection, or it broke before a whole answer arrived (refused, reset, DNS).
    #[error(
        "could not talk to Ollama at {url} ({endpoint}): {detail}; is Ollama running and is OLLAMA_URL right?"
    )]
    Unreachable { url: String, endpoint: &'static str, detail: String },

    /// Ollama took longer than the configured request timeout.
    #[error(
        "Ollama at {url} did not answer {endpoint} within {timeout:?}; the model may still be loading or the server is overloaded"
    )]
    Timeout { url: String, endpoint: &'static str, timeout: Duration },

    /// Ollama does not have the model (404 with its `{"error"}` body, or missing from the tags).
    #[error(
        "Ollama at {url}: {message} (pull it with `ollama pull {model}` or set OLLAMA_PULL=true)"
    )]
    ModelNotFound { url: String, model: String, message: String },

    /// Any other non-2xx answer; `message` is Ollama's own `error` text when it sent one.
    #[error("Ollama at {url} answered {endpoint} with {status}: {message}")]
    Api { url: String, endpoint: &'static str, status: StatusCode, message: String },

    /// A 2xx answer that is not the documented shape.
    #[error("Ollama at {url} sent an unexpected {endpoint} response: {detail}")]
    Protocol { url: String, endpoint: &'static str, detail: String },

    /// An `{"error": ..}` line inside the `/api/pull` stream.
    #[error("Ollama at {url} could not pull model \"{model}\": {message}")]
    PullFailed { url: String, model: String, message: String },

    /// The `/api/pull` stream ended without its final `{"status":"success"}`.
    #[error(
        "Ollama at {url} stopped streaming the pull of \"{model}\" before it finished (last status: {last_status:?})"
    )]
    PullIncomplete { url: String, model: String, last_status: Option<String> },
}

impl OllamaError {
    /// Worth retrying later: the server was unreachable, slow, overloaded or crashed (5xx,
    /// including Ollama's 503 "server busy" and model-loading errors), or a stream broke off.
    /// Bad requests, unknown models and malformed answers will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::PullIncomplete { .. } => true,
            Self::Api { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
            }
            Self::PullFailed { message, .. } => !pull_message_is_permanent(message),
            Self::InvalidUrl { .. } | Self::ModelNotFound { .. } | Self::Protocol { .. } => false,
        }
    }

    /// The HTTP status Ollama answered with, when the failure came from an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::ModelNotFound { .. } => Some(StatusCode::NOT_FOUND),
            _ => None,
        }
    }

    /// Ollama's own `error` text, verbatim, when it sent one.
    pub fn ollama_message(&self) -> Option<&str> {
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
    url: &str,
    endpoint: &'static str,
    timeout: Duration,
) -> OllamaError {
    if error.is_timeout() {
        return OllamaError::Timeout { url: url.into(), endpoint, timeout };
    }
    OllamaError::Unreachable { url: url.into(), endpoint, detail: root_cause(error) }
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

/// Ollama's error body: `{"error": "..."}`.
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
}

/// Maps a non-2xx answer. A 404 is "model not found" only when Ollama itself said so in its
/// JSON body; a plain-text 404 means OLLAMA_URL points at something that is not Ollama.
pub(crate) fn from_status(
    status: StatusCode,
    body: &[u8],
    url: &str,
    endpoint: &'static str,
    model: Option<&str>,
) -> OllamaError {
    let ollama_message = serde_json::from_slice::<ErrorBody>(body).ok().map(|b| b.error);
    match (status, ollama_message, model) {
        (StatusCode::NOT_FOUND, Some(message), Some(model)) => {
            OllamaError::ModelNotFound { url: url.into(), model: model.into(), message }
        }
        (_, Some(message), _) => OllamaError::Api { url: url.into(), endpoint, status, message },
        (_, None, _) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let mut message = if text.is_empty() {
                "(empty body)".to_owned()
            } else {
                text.chars().take(300).collect()
            };
            if status == StatusCode::NOT_FOUND {
                message.push_str(" (is OLLAMA_URL the address of an Ollama server?)");
            }
            OllamaError::Api { url: url.into(), endpoint, status, message }
        }
    }
}
