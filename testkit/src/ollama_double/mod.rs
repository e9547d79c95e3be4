//! An Ollama double: a real HTTP server on `127.0.0.1:0` speaking Ollama's wire format
//! (`/api/chat` with a JSON-schema `format`, `/api/tags`, `/api/pull` as NDJSON, `{"error": ..}`
//! bodies with 400/404/500/503), stricter than Ollama about what it accepts, and the
//! OpenAI-compatible API in front of the same "model" (`/v1/chat/completions` as server-sent
//! events, `/v1/models`).
//!
//! Tests steer it through [`DoubleControl`] (reachable from [`OllamaDouble`] by `Deref`): fail
//! the next N chats, break the schema, delay, cut connections, script replies, and read back
//! every request and the highest number of concurrent chats seen.
//!
//! ```no_run
//! # async fn example() {
//! let double = testkit::ollama_double::OllamaDouble::start().await;
//! double.busy_next_chats(1);
//! // point the code under test at double.url() ...
//! assert_eq!(double.chat_calls(), 0);
//! # }
//! ```

mod chat;
mod control;
mod models;
mod openai;
mod schema_instance;
mod validate;
mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::ops::Deref;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use control::{DoubleControl, RecordedRequest, SERVER_BUSY};
pub use models::DOUBLE_OLLAMA_VERSION;
pub use schema_instance::{instance_for_schema, violating_instance};
pub use wire::canonical_model_name;

/// The model a fresh double has installed (the default `OLLAMA_MODEL`).
pub const DEFAULT_MODEL: &str = "qwen2.5:3b";

/// A running double, stopped when dropped.
pub struct OllamaDouble {
    addr: SocketAddr,
    control: DoubleControl,
    server: JoinHandle<()>,
}

impl OllamaDouble {
    /// Starts a double on a random local port with [`DEFAULT_MODEL`] installed.
    pub async fn start() -> Self {
        Self::start_with_models(&[DEFAULT_MODEL]).await
    }

    /// Starts a double on a random local port with exactly `models` installed.
    pub async fn start_with_models(models: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the Ollama double");
        let addr = listener.local_addr().expect("the Ollama double's bound address");
        let control = DoubleControl::new(models);
        let server = tokio::spawn({
            let control = control.clone();
            async move {
                if let Err(e) = serve(listener, control).await {
                    eprintln!("ollama double on {addr} stopped: {e}");
                }
            }
        });
        Self { addr, control, server }
    }

    /// Base URL to use as `OLLAMA_URL`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that outlives borrows of the double (e.g. to move into spawned tasks).
    pub fn control(&self) -> DoubleControl {
        self.control.clone()
    }
}

impl Deref for OllamaDouble {
    type Target = DoubleControl;

    fn deref(&self) -> &DoubleControl {
        &self.control
    }
}

impl Drop for OllamaDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves the double on `listener` until the process ends (used by the `ollama-double` binary).
pub async fn serve(listener: TcpListener, control: DoubleControl) -> std::io::Result<()> {
    axum::serve(listener, router(control)).await
}

/// The double's routes, for serving it some other way (e.g. behind a chaos proxy).
pub fn router(control: DoubleControl) -> Router {
    Router::new()
        .route("/", get(models::root))
        .route("/api/version", get(models::version))
        .route("/api/tags", get(models::tags))
        .route("/api/chat", post(chat::chat))
        .route("/api/pull", post(models::pull))
        .route("/api/show", post(models::show))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/models", get(openai::models))
        .route("/_double/stats", get(models::stats))
        .fallback(models::not_found)
        .with_state(control)
}
