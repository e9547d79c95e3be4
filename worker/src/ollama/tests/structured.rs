use serde_json::{Value, json};
use testkit::ollama_double::OllamaDouble;

use super::super::{ChatOptions, JsonSchema, LlmError, StructuredRequest, chat_structured};
use super::{MODEL, client, compiled_decision_schema, decision_schema};

fn request() -> StructuredRequest {
    StructuredRequest {
        model: MODEL.into(),
        system: "You are the final decision maker.".into(),
        user: "Decide on GOOG for 2010-06-01.".into(),
        schema: decision_schema(),
        options: ChatOptions::deterministic(7, 4096),
    }
}

fn roles_and_contents(body: &Value) -> Vec<(String, String)> {
    let messages = body["messages"].as_array().expect("messages");
    messages
        .iter()
        .map(|m| {
            (m["role"].as_str().unwrap().to_owned(), m["content"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_fitting_reply_is_returned_after_one_call() {
    let double = OllamaDouble::start().await;
    double.prefer_enum_value("HOLD");
    let reply = chat_structured(&client(&double), &request()).await.expect("a reply");
    assert_eq!((reply.value["decision"].as_str(), reply.attempts), (Some("HOLD"), 1));
    assert_eq!(serde_json::from_str::<Value>(&reply.raw).unwrap(), reply.value);
    assert!(reply.eval_count.is_some() && reply.total_duration.is_some());
    let sent = double.chat_requests();
    assert_eq!(sent.len(), 1);
    let body = &sent[0];
    assert_eq!(body["format"], decision_schema());
    assert_eq!((&body["stream"], &body["think"]), (&json!(false), &json!(false)));
    assert_eq!(body["options"], json!({ "temperature": 0.0, "seed": 7, "num_ctx": 4096 }));
    let roles: Vec<String> = roles_and_contents(body).into_iter().map(|(r, _)| r).collect();
    assert_eq!(roles, ["system", "user"]);
}

#[tokio::test]
async fn a_reply_that_breaks_the_schema_is_repaired_once() {
    let double = OllamaDouble::start().await;
    double.break_schema_next_chats(1);
    let reply = chat_structured(&client(&double), &request()).await.expect("repaired");
    assert_eq!(reply.attempts, 2);
    assert!(compiled_decision_schema().check(&reply.value).is_ok());
    let sent = double.chat_requests();
    assert_eq!(sent.len(), 2);
    let repair = roles_and_contents(&sent[1]);
    assert_eq!(repair.len(), 4, "system, user, the bad reply, the repair instruction");
    assert_eq!(repair[2].0, "assistant");
    assert!(
        serde_json::from_str::<Value>(&repair[2].1).is_ok(),
        "the bad reply is sent back verbatim"
    );
    assert_eq!(repair[3].0, "user");
    assert!(repair[3].1.contains("\"decision\" is a required property"), "{}", repair[3].1);
    assert!(repair[3].1.contains("matches the required JSON schema"), "{}", repair[3].1);
    assert_eq!(sent[1]["format"], decision_schema(), "the repair call is constrained too");
}

#[tokio::test]
async fn a_reply_that_is_not_json_is_repaired_once() {
    let double = OllamaDouble::start().await;
    double.reply_next_chat("Sure! I would BUY.");
    let reply = chat_structured(&client(&double), &request()).await.expect("repaired");
    assert_eq!(reply.attempts, 2);
    let repair = roles_and_contents(&double.chat_requests()[1]);
    assert!(repair[3].1.contains("not valid JSON"), "{}", repair[3].1);
}

#[tokio::test]
async fn two_violations_fail_with_a_transient_schema_violation() {
    let double = OllamaDouble::start().await;
    double.break_schema_next_chats(2);
    let error = chat_structured(&client(&double), &request()).await.unwrap_err();
    let LlmError::SchemaViolation { model, detail, raw } = &error else {
        panic!("expected a schema violation, got {error:?}");
    };
    assert_eq!(model, MODEL);
    assert!(detail.contains("\"decision\" is a required property"), "{detail}");
    assert!(serde_json::from_str::<Value>(raw).is_ok(), "the last raw reply is kept: {raw}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("even after a repair request"), "{error}");
    assert_eq!(double.chat_calls(), 2, "exactly one repair round");
}

#[tokio::test]
async fn ollama_errors_keep_their_classification() {
    let double = OllamaDouble::start().await;
    double.busy_next_chats(1);
    let busy = chat_structured(&client(&double), &request()).await.unwrap_err();
    assert!(matches!(busy, LlmError::Ollama(_)) && busy.is_transient(), "{busy:?}");
    let missing = StructuredRequest { model: "mistral".into(), ..request() };
    let error = chat_structured(&client(&double), &missing).await.unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert!(error.to_string().contains("model \"mistral\" not found"), "{error}");
}

#[tokio::test]
async fn a_failure_during_the_repair_round_is_reported_as_such() {
    let double = OllamaDouble::start().await;
    double.reply_next_chat("{}");
    double.fail_next_chats(1, 400, "invalid message content");
    let error = chat_structured(&client(&double), &request()).await.unwrap_err();
    assert!(
        matches!(&error, LlmError::Ollama(e) if e.ollama_message() == Some("invalid message content")),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn a_schema_that_does_not_compile_fails_before_asking_the_model() {
    let double = OllamaDouble::start().await;
    let broken = StructuredRequest { schema: json!({ "type": "nonsense" }), ..request() };
    let error = chat_structured(&client(&double), &broken).await.unwrap_err();
    assert!(matches!(error, LlmError::InvalidSchema { .. }) && !error.is_transient(), "{error:?}");
    assert_eq!(double.chat_calls(), 0);
    assert!(JsonSchema::compile(json!({ "type": "nonsense" })).is_err());
}

#[test]
fn violations_name_their_json_path() {
    let schema = compiled_decision_schema();
    let detail = schema
        .check(&json!({ "decision": "MAYBE", "confidence": 2, "rationale": "r", "risks": [1] }))
        .unwrap_err();
    for expected in ["at /decision:", "at /confidence:", "at /risks/0:"] {
        assert!(detail.contains(expected), "{detail} should mention {expected}");
    }
    let top = schema.check(&json!([])).unwrap_err();
    assert!(top.starts_with("at the top level:"), "{top}");
}

#[tokio::test]
async fn fields_the_schema_does_not_declare_are_dropped_from_the_reply() {
    let double = OllamaDouble::start().await;
    let padding = "x".repeat(100_000);
    double.reply_next_chat(
        json!({"decision": "BUY", "confidence": 0.5, "rationale": "r", "risks": ["a"],
               "padding": padding, "nested": {"deep": [1, 2, 3]}})
        .to_string(),
    );
    // A context that holds the 100 KB reply: a smaller one cuts it off.
    let roomy = StructuredRequest { options: ChatOptions::deterministic(7, 65_536), ..request() };
    let reply = chat_structured(&client(&double), &roomy).await.expect("a reply");
    assert_eq!(
        reply.value,
        json!({"decision": "BUY", "confidence": 0.5, "rationale": "r", "risks": ["a"]})
    );
}

fn budgeted(tokens: u32) -> StructuredRequest {
    StructuredRequest {
        options: ChatOptions::deterministic(7, 4096).with_num_predict(tokens),
        ..request()
    }
}

#[tokio::test]
async fn a_reply_cut_off_at_the_budget_is_asked_for_again_briefly_without_the_loop() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(1);
    let reply = chat_structured(&client(&double), &budgeted(200)).await.expect("the brief reply");
    assert_eq!(reply.attempts, 2);
    let sent = double.chat_requests();
    assert_eq!(sent[0]["options"]["num_predict"], 200);
    let second = roles_and_contents(&sent[1]);
    let roles: Vec<&str> = second.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["system", "user", "user"], "the looping reply is not sent back");
    assert!(second[2].1.contains("cut off after 200 tokens"), "{}", second[2].1);
    assert_eq!(sent[1]["options"]["num_predict"], 200, "the same budget");
}

#[tokio::test]
async fn two_cut_off_replies_fail_with_a_transient_output_limit() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(2);
    let error = chat_structured(&client(&double), &budgeted(200)).await.unwrap_err();
    assert!(matches!(error, LlmError::OutputLimit { limit: 200, .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("kept generating past 200 tokens"), "{error}");
    assert_eq!(double.chat_calls(), 2);
}

#[tokio::test]
async fn without_a_budget_a_reply_cut_at_the_context_window_is_a_schema_violation_saying_so() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(2);
    let error = chat_structured(&client(&double), &request()).await.unwrap_err();
    let LlmError::SchemaViolation { detail, .. } = &error else { panic!("{error:?}") };
    assert!(detail.contains("cut off at the context window"), "{detail}");
}
