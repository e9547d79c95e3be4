//! The OpenAI-compatible client against the double's `/v1` face: what goes on the wire, the
//! two structured-output dialects, usage, and how errors are classified.

use std::time::Duration;

use serde_json::json;
use testkit::ollama_double::OllamaDouble;

use super::super::openai::{OpenAiClient, ResponseFormat};
use super::super::{LlmClient, LlmError, ServerError, StructuredRequest};
use super::{MODEL, ask, decision_schema, openai};

fn request() -> StructuredRequest {
    StructuredRequest {
        step: "decision",
        model: MODEL.into(),
        system: "You are the final decision maker.".into(),
        user: "Decide on GOOG.".into(),
        schema: decision_schema(),
        seed: 11,
        max_tokens: Some(300),
    }
}

fn server_error(error: LlmError) -> ServerError {
    match error {
        LlmError::Server(e) => e,
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_structured_call_sends_what_openai_documents_and_records_usage() {
    let double = OllamaDouble::start().await;
    let reply = ask(&openai(&double, ResponseFormat::Auto), &request()).await.expect("a reply");
    assert!(reply.usage.prompt_tokens > 0 && reply.usage.output_tokens > 0, "{:?}", reply.usage);
    let sent = double.requests().pop().expect("one request");
    assert_eq!(sent.path, "/v1/chat/completions");
    let body = sent.body;
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "reply", "schema": decision_schema(), "strict": true}})
    );
    assert_eq!(
        (&body["max_tokens"], &body["seed"], &body["temperature"]),
        (&json!(300), &json!(11), &json!(0.0))
    );
    assert_eq!(
        (&body["stream"], &body["stream_options"]),
        (&json!(true), &json!({"include_usage": true}))
    );
}

#[tokio::test]
async fn a_server_that_refuses_json_schema_gets_the_json_object_form_from_then_on() {
    let double = OllamaDouble::start().await;
    double.refuse_json_schema(true);
    let client = openai(&double, ResponseFormat::Auto);
    ask(&client, &request()).await.expect("answered in the json_object form");
    ask(&client, &request()).await.expect("again");
    let formats: Vec<String> = double
        .requests()
        .iter()
        .map(|r| r.body["response_format"]["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(formats, ["json_schema", "json_object", "json_object"]);
    double.refuse_json_schema(true);
    let last = double.requests().pop().unwrap().body;
    assert_eq!(last["response_format"]["schema"], decision_schema());
    // Like llama-cpp-python, no usage in the stream: counted and estimated, and said so.
    let reply = ask(&client, &request()).await.unwrap();
    assert!(reply.usage.output_tokens > 0 && reply.usage.prompt_tokens > 0, "{:?}", reply.usage);
    assert_eq!(reply.usage.estimated_calls, 1);
    // Configured to json_schema, the refusal is the user's to fix: permanent, and it says why.
    let strict = openai(&double, ResponseFormat::JsonSchema);
    let error = server_error(ask(&strict, &request()).await.unwrap_err());
    assert!(error.to_string().contains("json_schema"), "{error}");
}

#[tokio::test]
async fn a_reply_cut_at_max_tokens_is_treated_as_cut_off() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(2);
    let error = ask(&openai(&double, ResponseFormat::Auto), &request()).await.unwrap_err();
    assert!(matches!(error, LlmError::OutputLimit { limit: 300, .. }), "{error:?}");
}

#[tokio::test]
async fn errors_are_classified_as_for_ollama() {
    let double = OllamaDouble::start().await;
    let client = openai(&double, ResponseFormat::Auto);
    double.busy_next_chats_retry_after(1, 7);
    let busy = server_error(ask(&client, &request()).await.unwrap_err());
    assert!(busy.is_transient() && busy.is_busy(), "{busy}");
    assert_eq!(busy.retry_after(), Some(Duration::from_secs(7)));
    assert!(busy.to_string().contains("server busy"), "{busy}");
    double.fail_next_chats(1, 500, "CUDA error");
    assert!(server_error(ask(&client, &request()).await.unwrap_err()).is_transient());
    double.fail_next_chats(1, 429, "rate limit");
    assert!(server_error(ask(&client, &request()).await.unwrap_err()).is_transient());
    let unknown = StructuredRequest { model: "gpt-9".into(), ..request() };
    let missing = server_error(ask(&client, &unknown).await.unwrap_err());
    assert_eq!(missing.status(), Some(reqwest::StatusCode::NOT_FOUND));
    assert!(!missing.is_transient() && missing.to_string().contains("gpt-9"), "{missing}");
}

#[tokio::test]
async fn the_api_key_is_sent_as_a_bearer_token_and_never_shown() {
    let double = OllamaDouble::start().await;
    double.require_api_key("sk-secret-123");
    let base = format!("{}/v1", double.url());
    let without = LlmClient::OpenAi(
        OpenAiClient::new(&base, None, ResponseFormat::Auto, Duration::from_secs(5)).unwrap(),
    );
    let refused = server_error(ask(&without, &request()).await.unwrap_err());
    assert_eq!(refused.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert!(!refused.is_transient(), "a wrong key will not heal: {refused}");
    let with = OpenAiClient::new(
        &base,
        Some("sk-secret-123".into()),
        ResponseFormat::Auto,
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(!format!("{with:?}").contains("sk-secret"), "{with:?}");
    ask(&LlmClient::OpenAi(with), &request()).await.expect("accepted with the key");
}

#[tokio::test]
async fn the_model_check_reads_v1_models() {
    let double = OllamaDouble::start().await;
    let client = openai(&double, ResponseFormat::Auto);
    client.ensure_model(MODEL, false, &|_| {}).await.expect("listed");
    let error = client.ensure_model("gpt-9", false, &|_| {}).await.unwrap_err();
    assert!(error.is_model_not_found() && !error.is_transient(), "{error}");
    assert!(error.to_string().contains(MODEL), "names what is served: {error}");
}
