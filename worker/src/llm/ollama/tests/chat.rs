use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use testkit::ollama_double::{OllamaDouble, SERVER_BUSY};

use super::super::{ChatMessage, ChatRequest, OllamaClient, Role};
use super::{MODEL, canned_server, client, closed_port_url, structured_chat};
use crate::llm::ServerError;

#[tokio::test]
async fn a_chat_returns_the_reply_and_ollamas_statistics() {
    let double = OllamaDouble::start().await;
    let reply = client(&double).chat(&structured_chat()).await.expect("a reply");
    assert_eq!(
        (reply.model.as_str(), reply.message.role, reply.done),
        (MODEL, Role::Assistant, true)
    );
    assert_eq!(reply.done_reason.as_deref(), Some("stop"));
    assert!(
        reply.eval_count.is_some()
            && reply.total_duration.is_some()
            && reply.prompt_eval_count.is_some()
    );
    let decision: serde_json::Value =
        serde_json::from_str(&reply.message.content).expect("JSON content");
    assert!(decision["decision"].is_string(), "{decision}");
}

#[tokio::test]
async fn the_request_on_the_wire_is_exactly_what_ollama_documents() {
    let double = OllamaDouble::start().await;
    client(&double).chat(&structured_chat()).await.expect("a reply");
    let sent = double.chat_requests().pop().expect("one request");
    assert_eq!(
        sent,
        json!({
            "model": MODEL,
            "messages": [
                { "role": "system", "content": "Be brief." },
                { "role": "user", "content": "GOOG?" }
            ],
            "format": super::decision_schema(),
            "options": { "temperature": 0.0, "seed": 42, "num_ctx": 8192 },
            "think": false,
            "keep_alive": "5m",
            "stream": false
        })
    );
}

#[tokio::test]
async fn a_plain_chat_sends_no_optional_fields() {
    let double = OllamaDouble::start().await;
    let request = ChatRequest::new(MODEL, vec![ChatMessage::user("hi")]);
    let reply = client(&double).chat(&request).await.expect("a reply");
    assert_eq!(reply.message.content, "Hello from the Ollama double.");
    let sent = double.chat_requests().pop().unwrap();
    assert_eq!(
        sent,
        json!({ "model": MODEL, "messages": [{ "role": "user", "content": "hi" }], "stream": false })
    );
}

#[tokio::test]
async fn an_unknown_model_is_a_permanent_model_not_found_with_the_fix() {
    let double = OllamaDouble::start().await;
    let request = ChatRequest::new("llama3", vec![ChatMessage::user("hi")]);
    let error = client(&double).chat(&request).await.unwrap_err();
    assert!(
        matches!(&error, ServerError::ModelNotFound { model, .. } if model == "llama3"),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.server_message(), Some("model \"llama3\" not found, try pulling it first"));
    let text = error.to_string();
    assert!(text.contains(&double.url()) && text.contains("model \"llama3\" not found"), "{text}");
    assert!(text.contains("`ollama pull llama3`") && text.contains("OLLAMA_PULL=true"), "{text}");
}

#[tokio::test]
async fn server_errors_and_busy_are_transient_and_keep_ollamas_message() {
    let double = OllamaDouble::start().await;
    double.busy_next_chats(1);
    double.fail_next_chats(1, 500, "llama runner process has terminated: signal: killed");
    let client = client(&double);
    let busy = client.chat(&structured_chat()).await.unwrap_err();
    assert!(busy.is_transient(), "{busy:?}");
    assert_eq!(
        (busy.status(), busy.server_message()),
        (Some(StatusCode::SERVICE_UNAVAILABLE), Some(SERVER_BUSY))
    );
    let crashed = client.chat(&structured_chat()).await.unwrap_err();
    assert!(crashed.is_transient(), "{crashed:?}");
    assert!(
        crashed
            .to_string()
            .contains("500 Internal Server Error: llama runner process has terminated"),
        "{crashed}"
    );
    assert!(client.chat(&structured_chat()).await.is_ok(), "the next call succeeds");
}

#[tokio::test]
async fn a_400_is_permanent() {
    let double = OllamaDouble::start().await;
    double.fail_next_chats(1, 400, "invalid options: num_ctx");
    let error = client(&double).chat(&structured_chat()).await.unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(
        (error.status(), error.server_message()),
        (Some(StatusCode::BAD_REQUEST), Some("invalid options: num_ctx"))
    );
}

#[tokio::test]
async fn a_reply_slower_than_the_timeout_is_a_transient_timeout() {
    let double = OllamaDouble::start().await;
    double.delay_next_chats(1, Duration::from_millis(1500));
    let client = OllamaClient::new(&double.url(), Duration::from_millis(300)).unwrap();
    let error = client.chat(&structured_chat()).await.unwrap_err();
    assert!(matches!(error, ServerError::Timeout { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("did not answer POST /api/chat within 300ms"), "{error}");
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_names_the_url() {
    let url = closed_port_url();
    let client = OllamaClient::new(&url, Duration::from_secs(2)).unwrap();
    let error = client.chat(&structured_chat()).await.unwrap_err();
    assert!(matches!(error, ServerError::Unreachable { .. }), "{error:?}");
    assert!(error.is_transient());
    let text = error.to_string();
    assert!(text.contains(&url) && text.to_lowercase().contains("refused"), "{text}");
}

#[tokio::test]
async fn a_connection_dropped_mid_reply_is_transient() {
    let double = OllamaDouble::start().await;
    double.drop_next_chats(1);
    let error = client(&double).chat(&structured_chat()).await.unwrap_err();
    assert!(matches!(error, ServerError::Unreachable { .. }), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_body_that_is_not_a_chat_response_is_a_permanent_protocol_error() {
    let url = canned_server("/api/chat", "application/json", r#"{"answer":"42"}"#).await;
    let client = OllamaClient::new(&url, Duration::from_secs(2)).unwrap();
    let error = client.chat(&structured_chat()).await.unwrap_err();
    assert!(matches!(error, ServerError::Protocol { .. }), "{error:?}");
    assert!(!error.is_transient());
    assert!(error.to_string().contains("missing field `model`"), "{error}");
}

#[tokio::test]
async fn a_404_that_is_not_from_ollama_points_at_ollama_url() {
    let double = OllamaDouble::start().await;
    let client =
        OllamaClient::new(&format!("{}/not-ollama", double.url()), Duration::from_secs(2)).unwrap();
    let error = client.chat(&structured_chat()).await.unwrap_err();
    assert!(
        matches!(error, ServerError::Api { .. }),
        "a route 404 is not a missing model: {error:?}"
    );
    assert!(!error.is_transient());
    assert!(
        error.to_string().contains("is the URL setting the address of the model server?"),
        "{error}"
    );
}

#[test]
fn urls_that_are_not_http_are_rejected_at_construction() {
    for bad in ["", "ollama:11434", "ftp://host", "http://"] {
        let error = OllamaClient::new(bad, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(error, ServerError::InvalidUrl { .. }), "{bad:?}: {error:?}");
        assert!(error.to_string().starts_with("OLLAMA_URL"), "{error}");
    }
    let client = OllamaClient::new("http://ollama:11434/", Duration::from_secs(1)).unwrap();
    assert_eq!(client.server(), "Ollama at http://ollama:11434");
}

#[tokio::test]
async fn credentials_in_the_url_never_appear_in_errors() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://admin:s3cret@{closed}");
    let client = OllamaClient::new(&url, Duration::from_secs(2)).unwrap();
    assert_eq!(client.server(), format!("Ollama at http://admin:***@{closed}"));
    let unreachable = client.list_models().await.unwrap_err().to_string();
    assert!(!unreachable.contains("s3cret") && unreachable.contains("admin:***@"), "{unreachable}");

    let double = OllamaDouble::start().await;
    let url = double.url().replace("http://", "http://admin:s3cret@");
    let client = OllamaClient::new(&url, Duration::from_secs(2)).unwrap();
    let mut chat = structured_chat();
    chat.model = "no-such-model:1b".into();
    let missing = client.chat(&chat).await.unwrap_err().to_string();
    assert!(!missing.contains("s3cret"), "{missing}");
    let invalid = OllamaClient::new("ftp://admin:s3cret@x", Duration::from_secs(1)).unwrap_err();
    assert!(!invalid.to_string().contains("s3cret"), "{invalid}");
}
