use std::time::{Duration, Instant};

use serde_json::json;

use super::super::SERVER_BUSY;
use super::{OllamaDouble, chat_body, decision_schema, is_valid, post};

#[tokio::test]
async fn the_next_n_chats_fail_with_the_given_status_and_error_body() {
    let double = OllamaDouble::start().await;
    double.busy_next_chats(1);
    double.fail_next_chats(1, 500, "llama runner process has terminated");
    let body = chat_body(json!({}));
    assert_eq!(post(&double, "/api/chat", &body).await, (503, json!({ "error": SERVER_BUSY })));
    let (status, error) = post(&double, "/api/chat", &body).await;
    assert_eq!((status, error), (500, json!({ "error": "llama runner process has terminated" })));
    assert_eq!(post(&double, "/api/chat", &body).await.0, 200, "faults are used up");
    assert_eq!(double.chat_calls(), 3);
}

#[tokio::test]
async fn a_schema_break_returns_json_that_does_not_validate_once() {
    let double = OllamaDouble::start().await;
    double.break_schema_next_chats(1);
    let content = |reply: &serde_json::Value| {
        serde_json::from_str::<serde_json::Value>(reply["message"]["content"].as_str().unwrap())
            .expect("still well-formed JSON")
    };
    let (_, broken) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert!(!is_valid(&decision_schema(), &content(&broken)));
    let (_, fine) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert!(is_valid(&decision_schema(), &content(&fine)));
}

#[tokio::test]
async fn delays_hold_the_reply_back() {
    let double = OllamaDouble::start().await;
    double.delay_next_chats(1, Duration::from_millis(300));
    let started = Instant::now();
    post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    double.set_chat_delay(Duration::from_millis(150));
    let started = Instant::now();
    post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_dropped_connection_cuts_both_single_and_streamed_bodies() {
    let double = OllamaDouble::start().await;
    double.drop_next_chats(2);
    for stream in [false, true] {
        let response = reqwest::Client::new()
            .post(format!("{}/api/chat", double.url()))
            .json(&chat_body(json!({ "stream": stream })))
            .send()
            .await
            .expect("headers arrive before the cut");
        assert_eq!(response.status(), 200);
        let body = response.bytes().await;
        assert!(body.is_err(), "stream={stream}: the body must not complete, got {body:?}");
    }
    assert_eq!(post(&double, "/api/chat", &chat_body(json!({}))).await.0, 200);
}

#[tokio::test]
async fn the_highest_number_of_concurrent_chats_is_tracked() {
    let double = OllamaDouble::start().await;
    double.set_chat_delay(Duration::from_millis(200));
    let body = chat_body(json!({}));
    let calls = (0..4).map(|_| post(&double, "/api/chat", &body));
    let replies = futures::future::join_all(calls).await;
    assert!(replies.iter().all(|(status, _)| *status == 200));
    assert_eq!(double.max_concurrent_chats(), 4);
    assert_eq!(double.chats_in_flight(), 0);
}
