use testkit::ollama_double::OllamaDouble;

use super::super::PullProgress;
use super::{canned_server, client};
use crate::llm::ServerError;

async fn pull(
    double_or_url: &super::super::OllamaClient,
    model: &str,
) -> (Result<(), ServerError>, Vec<PullProgress>) {
    let mut seen = Vec::new();
    let result = double_or_url.pull(model, |p| seen.push(p.clone())).await;
    (result, seen)
}

#[tokio::test]
async fn a_pull_streams_progress_until_success() {
    let double = OllamaDouble::start_with_models(&[]).await;
    let (result, seen) = pull(&client(&double), "llama3").await;
    result.expect("the pull succeeds");
    assert_eq!(seen.first().map(|p| p.status.as_str()), Some("pulling manifest"));
    assert!(seen.last().is_some_and(PullProgress::is_success));
    assert!(seen.iter().any(|p| p.total.is_some() && p.completed == p.total), "download progress");
    let sent =
        double.requests().into_iter().find(|r| r.path == "/api/pull").expect("a pull request");
    assert_eq!(sent.body, serde_json::json!({ "model": "llama3", "stream": true }));
}

#[tokio::test]
async fn an_error_line_in_the_stream_fails_the_pull_with_ollamas_message() {
    let double = OllamaDouble::start_with_models(&[]).await;
    double.fail_next_pull("max retries exceeded: connection reset by peer");
    let (result, seen) = pull(&client(&double), "llama3").await;
    let error = result.unwrap_err();
    assert!(matches!(error, ServerError::PullFailed { .. }), "{error:?}");
    assert_eq!(error.server_message(), Some("max retries exceeded: connection reset by peer"));
    assert!(error.is_transient(), "a download error may heal");
    assert!(!seen.is_empty(), "progress before the error was reported");
    assert!(!double.has_model("llama3"));
}

#[tokio::test]
async fn a_connection_dropped_mid_pull_is_transient() {
    let double = OllamaDouble::start_with_models(&[]).await;
    double.drop_next_pull();
    let (result, seen) = pull(&client(&double), "llama3").await;
    let error = result.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert!(!seen.is_empty() && !seen.iter().any(PullProgress::is_success));
}

#[tokio::test]
async fn a_stream_that_ends_without_success_is_transient() {
    let body = "{\"status\":\"pulling manifest\"}\n{\"status\":\"pulling aa\",\"digest\":\"sha256:aa\",\"total\":10}";
    let url = canned_server("/api/pull", "application/x-ndjson", body).await;
    let client = super::super::OllamaClient::new(&url, std::time::Duration::from_secs(2)).unwrap();
    let (result, seen) = pull(&client, "llama3").await;
    let error = result.unwrap_err();
    assert!(
        matches!(&error, ServerError::PullIncomplete { last_status: Some(s), .. } if s == "pulling aa"),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(seen.len(), 2, "the unterminated last line is read too");
}

#[tokio::test]
async fn a_line_that_is_not_json_is_a_protocol_error() {
    let url = canned_server(
        "/api/pull",
        "application/x-ndjson",
        "{\"status\":\"pulling manifest\"}\n<html>\n",
    )
    .await;
    let client = super::super::OllamaClient::new(&url, std::time::Duration::from_secs(2)).unwrap();
    let (result, _) = pull(&client, "llama3").await;
    let error = result.unwrap_err();
    assert!(matches!(error, ServerError::Protocol { .. }) && !error.is_transient(), "{error:?}");
}
