//! Response shapes shared by the handlers: Ollama's `{"error": ..}` bodies, NDJSON streams
//! (optionally cut mid-way), timestamps and model names.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{StreamExt, stream};
use serde_json::{Value, json};

/// `llama3` and `llama3:latest` name the same model; `library/x` keeps its namespace.
pub fn canonical_model_name(name: &str) -> String {
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    if last_segment.contains(':') { name.to_owned() } else { format!("{name}:latest") }
}

/// Ollama's error body: `{"error": "..."}` with a JSON content type.
pub(crate) fn error(status: u16, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// An injected HTTP failure, with its `Retry-After` when it has one.
pub(crate) fn failure(failure: super::control::HttpFailure) -> Response {
    let mut response = error(failure.status, failure.message);
    if let Some(seconds) = failure.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A stable fake sha256 digest (64 hex digits) for a name, so `/api/tags` looks real.
pub(crate) fn fake_digest(name: &str) -> String {
    // FNV-1a, re-seeded per 16-digit block: not cryptographic, only stable and name-specific.
    (0u64..4)
        .map(|block| {
            let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ block;
            for byte in name.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
            format!("{hash:016x}")
        })
        .collect()
}

/// One JSON value per line, as Ollama streams (`application/x-ndjson`).
pub(crate) fn ndjson_lines(values: &[Value]) -> Vec<Bytes> {
    values.iter().map(|v| Bytes::from(format!("{v}\n"))).collect()
}

/// A 200 response whose body is `chunks`; with `cut` the connection is aborted after the first
/// half of them, which a client sees as a body that ends without its terminating chunk; with
/// `stall` the body falls silent for that long after the first half (a stuck generation).
pub(crate) fn chunked(
    content_type: &'static str,
    chunks: Vec<Bytes>,
    cut: bool,
    stall: Option<std::time::Duration>,
) -> Response {
    let keep = if cut { chunks.len() / 2 } else { chunks.len() };
    let half = chunks.len() / 2;
    let sent = stream::iter(chunks.into_iter().take(keep).enumerate()).then(
        move |(i, chunk)| async move {
            if let (Some(pause), true) = (stall, i == half) {
                tokio::time::sleep(pause).await;
            }
            Ok::<_, std::io::Error>(chunk)
        },
    );
    let body = if cut {
        // The pause lets the server flush the status line and the first chunks, so the client
        // sees a response that breaks off rather than a request that never got an answer.
        let abort = stream::once(async {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            let aborted = std::io::ErrorKind::ConnectionAborted;
            Err(std::io::Error::new(aborted, "ollama double dropped the connection"))
        });
        Body::from_stream(sent.chain(abort))
    } else {
        Body::from_stream(sent)
    };
    with_content_type(body, content_type)
}

pub(crate) fn with_content_type(body: Body, content_type: &'static str) -> Response {
    let mut response = Response::new(body);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Splits `text` into a few pieces on character boundaries, as streamed tokens would arrive.
pub(crate) fn token_pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(8).map(|c| c.iter().collect()).collect()
}
