use serde_json::{Value, json};

use super::{OllamaDouble, chat_body, post, post_raw};

async fn expect_400(double: &OllamaDouble, body: &str, expected: &str) {
    let (status, text) = post_raw(double, "/api/chat", body).await;
    assert_eq!(status, 400, "{body} should be rejected, got {text}");
    let error: Value = serde_json::from_str(&text).expect("an {\"error\"} body");
    let message = error["error"].as_str().expect("error is a string");
    assert!(message.contains(expected), "for {body}: {message:?} should contain {expected:?}");
}

#[tokio::test]
async fn a_well_formed_structured_request_is_accepted() {
    let double = OllamaDouble::start().await;
    let (status, body) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn bodies_that_are_not_a_json_object_are_rejected() {
    let double = OllamaDouble::start().await;
    expect_400(&double, "", "needs a JSON body").await;
    expect_400(&double, "{not json", "request body is not valid JSON").await;
    expect_400(&double, "[1, 2]", "request body must be a JSON object, got an array").await;
}

#[tokio::test]
async fn unknown_top_level_fields_are_rejected() {
    let double = OllamaDouble::start().await;
    let body = chat_body(json!({ "prompt": "hi" })).to_string();
    expect_400(&double, &body, "unknown field \"prompt\" in /api/chat request").await;
}

#[tokio::test]
async fn the_model_must_be_a_non_empty_string() {
    let double = OllamaDouble::start().await;
    let mut missing = chat_body(json!({}));
    missing.as_object_mut().unwrap().remove("model");
    expect_400(&double, &missing.to_string(), "model is required").await;
    let empty = chat_body(json!({ "model": " " })).to_string();
    expect_400(&double, &empty, "model must not be empty").await;
    let number = chat_body(json!({ "model": 3 })).to_string();
    expect_400(&double, &number, "model must be a string, got a number").await;
}

#[tokio::test]
async fn messages_must_be_role_and_content_objects() {
    let double = OllamaDouble::start().await;
    let cases = [
        (json!(null), "messages must be an array, got null"),
        (json!({ "role": "user" }), "messages must be an array, got an object"),
        (json!(["hi"]), "messages[0] must be an object, got a string"),
        (
            json!([{ "role": "bot", "content": "x" }]),
            "messages[0].role must be one of system, user, assistant, tool, got \"bot\"",
        ),
        (json!([{ "content": "x" }]), "messages[0].role is required"),
        (
            json!([{ "role": "user", "content": "a" }, { "role": "user" }]),
            "messages[1].content is required",
        ),
        (
            json!([{ "role": "user", "content": 5 }]),
            "messages[0].content must be a string, got a number",
        ),
        (
            json!([{ "role": "user", "content": "x", "name": "n" }]),
            "unknown field \"name\" in messages[0]",
        ),
    ];
    for (messages, expected) in cases {
        let body = chat_body(json!({ "messages": messages })).to_string();
        expect_400(&double, &body, expected).await;
    }
    let mut missing = chat_body(json!({}));
    missing.as_object_mut().unwrap().remove("messages");
    expect_400(&double, &missing.to_string(), "messages is required").await;
}

#[tokio::test]
async fn stream_and_think_must_be_booleans() {
    let double = OllamaDouble::start().await;
    let stream = chat_body(json!({ "stream": "no" })).to_string();
    expect_400(&double, &stream, "stream must be a boolean, got a string").await;
    let think = chat_body(json!({ "think": "yes" })).to_string();
    expect_400(&double, &think, "think must be a boolean").await;
}

#[tokio::test]
async fn format_must_be_json_or_a_schema_with_a_type() {
    let double = OllamaDouble::start().await;
    let yaml = chat_body(json!({ "format": "yaml" })).to_string();
    expect_400(&double, &yaml, "format must be \"json\" or a JSON schema object, got \"yaml\"")
        .await;
    let untyped = chat_body(json!({ "format": { "properties": {} } })).to_string();
    expect_400(&double, &untyped, "format schema must have a \"type\"").await;
    let json_mode = chat_body(json!({ "format": "json" }));
    assert_eq!(post(&double, "/api/chat", &json_mode).await.0, 200);
}

#[tokio::test]
async fn options_must_be_known_and_well_typed() {
    let double = OllamaDouble::start().await;
    let cases = [
        (json!([]), "options must be an object, got an array"),
        (json!({ "temperature": "hot" }), "options.temperature must be a number, got \"hot\""),
        (json!({ "seed": 1.5 }), "options.seed must be an integer, got 1.5"),
        (json!({ "num_ctx": 0 }), "options.num_ctx must be a positive integer, got 0"),
        (json!({ "num_ctx": -4096 }), "options.num_ctx must be a positive integer, got -4096"),
        (json!({ "num_context": 4096 }), "unknown option \"num_context\" in options"),
    ];
    for (options, expected) in cases {
        let body = chat_body(json!({ "options": options })).to_string();
        expect_400(&double, &body, expected).await;
    }
}

#[tokio::test]
async fn keep_alive_must_be_a_duration_or_seconds() {
    let double = OllamaDouble::start().await;
    let bad = chat_body(json!({ "keep_alive": "forever" })).to_string();
    expect_400(&double, &bad, "keep_alive must be a duration").await;
    for good in [json!("1h30m"), json!("-1"), json!(300), json!("0")] {
        let body = chat_body(json!({ "keep_alive": good }));
        assert_eq!(post(&double, "/api/chat", &body).await.0, 200, "keep_alive {good}");
    }
}

#[tokio::test]
async fn an_unknown_model_is_a_404_with_ollamas_wording() {
    let double = OllamaDouble::start().await;
    let body = chat_body(json!({ "model": "llama3" }));
    let (status, error) = post(&double, "/api/chat", &body).await;
    assert_eq!(status, 404);
    assert_eq!(error, json!({ "error": "model \"llama3\" not found, try pulling it first" }));
}

#[tokio::test]
async fn a_model_without_a_tag_means_latest() {
    let double = OllamaDouble::start_with_models(&["llama3"]).await;
    let body = chat_body(json!({ "model": "llama3:latest" }));
    assert_eq!(post(&double, "/api/chat", &body).await.0, 200);
    let untagged = chat_body(json!({ "model": "llama3" }));
    assert_eq!(post(&double, "/api/chat", &untagged).await.0, 200);
}

#[tokio::test]
async fn pull_requests_need_a_model() {
    let double = OllamaDouble::start().await;
    let (status, error) = post(&double, "/api/pull", &json!({ "stream": false })).await;
    assert_eq!((status, error), (400, json!({ "error": "model is required" })));
    let (status, error) = post(&double, "/api/pull", &json!({ "model": "x", "force": true })).await;
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().contains("unknown field \"force\""), "{error}");
}
