//! The client against the Ollama double (`testkit::ollama_double`), which speaks Ollama's wire
//! format and rejects malformed requests with 400, so every passing call was well-formed.

mod chat;
mod models;
mod pull;

use std::time::Duration;

use testkit::ollama_double::OllamaDouble;

pub(super) use crate::llm::tests::{MODEL, decision_schema};

use super::{ChatMessage, ChatOptions, ChatRequest, Format, OllamaClient};

pub(super) fn client(double: &OllamaDouble) -> OllamaClient {
    OllamaClient::new(&double.url(), Duration::from_secs(5)).expect("the double's URL is valid")
}

pub(super) fn structured_chat() -> ChatRequest {
    ChatRequest {
        format: Some(Format::Schema(decision_schema())),
        options: Some(ChatOptions::deterministic(42, 8192)),
        think: Some(false),
        keep_alive: Some("5m".into()),
        ..ChatRequest::new(
            MODEL,
            vec![ChatMessage::system("Be brief."), ChatMessage::user("GOOG?")],
        )
    }
}

/// A local port nothing listens on: bound, then released.
pub(super) fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A one-route server answering `path` with `body` (for answers the double never gives).
pub(super) async fn canned_server(
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let handler = move || async move { ([(axum::http::header::CONTENT_TYPE, content_type)], body) };
    let app = axum::Router::new().route(path, axum::routing::any(handler));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}
