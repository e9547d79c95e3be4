//! Model management and the small endpoints: `GET /api/tags`, `POST /api/pull`, `GET /`,
//! `GET /api/version`, plus the double's own `GET /_double/stats` for process-level tests.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::control::{DoubleControl, PullFault};
use super::validate;
use super::wire;

/// The version the double claims; recent enough for JSON-schema `format` and `think`.
pub const DOUBLE_OLLAMA_VERSION: &str = "0.12.0";

/// Two layers of a made-up model, in bytes, to drive pull progress.
const LAYERS: [u64; 2] = [1_929_912_432, 7_340];

pub(crate) async fn root() -> &'static str {
    "Ollama is running"
}

pub(crate) async fn version() -> Response {
    axum::Json(json!({ "version": DOUBLE_OLLAMA_VERSION })).into_response()
}

pub(crate) async fn stats(State(control): State<DoubleControl>) -> Response {
    axum::Json(json!({
        "chat_calls": control.chat_calls(),
        "chats_in_flight": control.chats_in_flight(),
        "max_concurrent_chats": control.max_concurrent_chats(),
        "pull_calls": control.pull_calls(),
        "models": control.models(),
    }))
    .into_response()
}

pub(crate) async fn not_found() -> Response {
    // Ollama's router (gin) answers unknown paths with plain text, not an `{"error"}` body.
    (axum::http::StatusCode::NOT_FOUND, "404 page not found").into_response()
}

pub(crate) async fn tags(State(control): State<DoubleControl>) -> Response {
    control.record("GET", "/api/tags", b"");
    let models: Vec<Value> = control.models().iter().map(|name| model_summary(name)).collect();
    axum::Json(json!({ "models": models })).into_response()
}

fn model_summary(name: &str) -> Value {
    json!({
        "name": name,
        "model": name,
        "modified_at": "2025-01-01T00:00:00.000000000Z",
        "size": LAYERS.iter().sum::<u64>(),
        "digest": wire::fake_digest(name),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "qwen2",
            "families": ["qwen2"],
            "parameter_size": "3.1B",
            "quantization_level": "Q4_K_M",
        },
    })
}

pub(crate) async fn pull(State(control): State<DoubleControl>, body: Bytes) -> Response {
    control.record("POST", "/api/pull", &body);
    control.count_pull();
    let call = match validate::pull_request(&body) {
        Ok(call) => call,
        Err(message) => return wire::error(400, message),
    };
    let fault = control.take_pull_fault();
    if !call.stream {
        return match fault {
            Some(PullFault::ErrorLine(message)) => wire::error(500, message),
            Some(PullFault::Drop) => wire::chunked("application/json", vec![], true),
            None => {
                control.add_model(&call.model);
                axum::Json(json!({ "status": "success" })).into_response()
            }
        };
    }
    let mut lines = progress_lines(&call.model);
    let cut = match fault {
        Some(PullFault::ErrorLine(message)) => {
            lines.truncate(3);
            lines.push(json!({ "error": message }));
            false
        }
        Some(PullFault::Drop) => true,
        None => {
            // Added now rather than after the last line: the client reads "success" and then
            // lists the tags, and the model must be there by then.
            control.add_model(&call.model);
            false
        }
    };
    wire::chunked("application/x-ndjson", wire::ndjson_lines(&lines), cut)
}

/// The statuses Ollama streams for a pull: manifest, per-layer download progress (without
/// `completed` until bytes arrive), verification, then `success`.
fn progress_lines(model: &str) -> Vec<Value> {
    let mut lines = vec![json!({ "status": "pulling manifest" })];
    for (index, total) in LAYERS.iter().enumerate() {
        let digest = format!("sha256:{}", wire::fake_digest(&format!("{model}#{index}")));
        let status = format!("pulling {}", &digest[7..19]);
        lines.push(json!({ "status": status, "digest": digest, "total": total }));
        for quarter in 1..=4u64 {
            let completed = total * quarter / 4;
            lines.push(json!({ "status": status, "digest": digest, "total": total, "completed": completed }));
        }
    }
    for status in ["verifying sha256 digest", "writing manifest", "success"] {
        lines.push(json!({ "status": status }));
    }
    lines
}
