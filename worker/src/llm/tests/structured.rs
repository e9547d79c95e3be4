use serde_json::{Value, json};
use testkit::ollama_double::OllamaDouble;

use super::super::{JsonSchema, LlmError, StructuredRequest};
use super::{MODEL, ask, client, client_with_ctx, compiled_decision_schema, decision_schema};

fn request() -> StructuredRequest {
    StructuredRequest {
        step: "decision",
        model: MODEL.into(),
        system: "You are the final decision maker.".into(),
        user: "Decide on GOOG for 2010-06-01.".into(),
        schema: decision_schema(),
        seed: 7,
        max_tokens: None,
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
    let reply = ask(&client(&double), &request()).await.expect("a reply");
    assert_eq!((reply.value["decision"].as_str(), reply.attempts), (Some("HOLD"), 1));
    assert_eq!(serde_json::from_str::<Value>(&reply.raw).unwrap(), reply.value);
    assert_eq!((reply.usage.calls, reply.usage.output_tokens > 0), (1, true), "{:?}", reply.usage);
    assert!(reply.usage.prompt_tokens > 0, "{:?}", reply.usage);
    let sent = double.chat_requests();
    assert_eq!(sent.len(), 1);
    let body = &sent[0];
    assert_eq!(body["format"], decision_schema());
    assert_eq!((&body["stream"], &body["think"]), (&json!(true), &json!(false)));
    assert_eq!(body["options"], json!({ "temperature": 0.0, "seed": 7, "num_ctx": 4096 }));
    let roles: Vec<String> = roles_and_contents(body).into_iter().map(|(r, _)| r).collect();
    assert_eq!(roles, ["system", "user"]);
}

#[tokio::test]
async fn a_reply_that_breaks_the_schema_is_repaired_once() {
    let double = OllamaDouble::start().await;
    double.break_schema_next_chats(1);
    let reply = ask(&client(&double), &request()).await.expect("repaired");
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
    assert_eq!(sent[1]["options"]["temperature"], 0.3, "the repair round is warmer");
    assert_eq!(sent[1]["options"]["seed"], 7);
    assert_eq!(reply.usage.calls, 2);
}

#[tokio::test]
async fn a_reply_that_is_not_json_is_repaired_once() {
    let double = OllamaDouble::start().await;
    double.reply_next_chat("Sure! I would BUY.");
    let reply = ask(&client(&double), &request()).await.expect("repaired");
    assert_eq!(reply.attempts, 2);
    let repair = roles_and_contents(&double.chat_requests()[1]);
    assert!(repair[3].1.contains("not valid JSON"), "{}", repair[3].1);
}

#[tokio::test]
async fn two_violations_fail_with_a_transient_schema_violation() {
    let double = OllamaDouble::start().await;
    double.break_schema_next_chats(2);
    let error = ask(&client(&double), &request()).await.unwrap_err();
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
async fn server_errors_keep_their_classification() {
    let double = OllamaDouble::start().await;
    double.busy_next_chats(1);
    let busy = ask(&client(&double), &request()).await.unwrap_err();
    assert!(matches!(busy, LlmError::Server(_)) && busy.is_transient(), "{busy:?}");
    let missing = StructuredRequest { model: "mistral".into(), ..request() };
    let error = ask(&client(&double), &missing).await.unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert!(error.to_string().contains("model \"mistral\" not found"), "{error}");
}

#[tokio::test]
async fn a_failure_during_the_repair_round_is_reported_as_such() {
    let double = OllamaDouble::start().await;
    double.reply_next_chat("{}");
    double.fail_next_chats(1, 400, "invalid message content");
    let error = ask(&client(&double), &request()).await.unwrap_err();
    assert!(
        matches!(&error, LlmError::Server(e) if e.server_message() == Some("invalid message content")),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn a_schema_that_does_not_compile_fails_before_asking_the_model() {
    let double = OllamaDouble::start().await;
    let broken = StructuredRequest { schema: json!({ "type": "nonsense" }), ..request() };
    let error = ask(&client(&double), &broken).await.unwrap_err();
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
    let reply = ask(&client_with_ctx(&double, 65_536), &request()).await.expect("a reply");
    assert_eq!(
        reply.value,
        json!({"decision": "BUY", "confidence": 0.5, "rationale": "r", "risks": ["a"]})
    );
}

fn budgeted(tokens: u32) -> StructuredRequest {
    StructuredRequest { max_tokens: Some(tokens), ..request() }
}

#[tokio::test]
async fn a_reply_cut_off_at_the_budget_is_asked_for_again_briefly_without_the_loop() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(1);
    let reply = ask(&client(&double), &budgeted(200)).await.expect("the brief reply");
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
    let error = ask(&client(&double), &budgeted(200)).await.unwrap_err();
    assert!(matches!(error, LlmError::OutputLimit { limit: 200, .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("kept generating past 200 tokens"), "{error}");
    assert_eq!(double.chat_calls(), 2);
}

#[tokio::test]
async fn without_a_budget_a_reply_cut_at_the_context_window_is_a_schema_violation_saying_so() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(2);
    let error = ask(&client(&double), &request()).await.unwrap_err();
    let LlmError::SchemaViolation { detail, .. } = &error else { panic!("{error:?}") };
    assert!(detail.contains("cut off at the context window"), "{detail}");
}

#[tokio::test]
async fn a_clampable_number_out_of_range_is_clamped_and_reported_not_rejected() {
    let double = OllamaDouble::start().await;
    let mut schema = decision_schema();
    schema["properties"]["confidence"]["x-clamp"] = json!(true);
    double.reply_next_chat(
        json!({"decision": "BUY", "confidence": 28.4569, "rationale": "r", "risks": ["a"]})
            .to_string(),
    );
    let clampable = StructuredRequest { schema, ..request() };
    let reply = ask(&client(&double), &clampable).await.expect("clamped, not repaired");
    assert_eq!((reply.attempts, &reply.value["confidence"]), (1, &json!(1.0)));
    assert_eq!(reply.clamped.len(), 1);
    assert_eq!(
        (reply.clamped[0].path.as_str(), reply.clamped[0].from, reply.clamped[0].to),
        ("/confidence", 28.4569, 1.0)
    );
    let sent = &double.chat_requests()[0]["format"]["properties"]["confidence"];
    assert!(sent.get("x-clamp").is_none(), "our own keyword is not sent: {sent}");
}

#[tokio::test]
async fn a_number_out_of_a_range_not_marked_clampable_is_repaired_naming_path_and_bound() {
    let double = OllamaDouble::start().await;
    double.reply_next_chat(
        json!({"decision": "BUY", "confidence": 28.4569, "rationale": "r", "risks": ["a"]})
            .to_string(),
    );
    let reply = ask(&client(&double), &request()).await.expect("repaired");
    assert_eq!(reply.attempts, 2);
    let repair = roles_and_contents(&double.chat_requests()[1]);
    let instruction = &repair[3].1;
    assert!(
        instruction.contains("at /confidence: 28.4569 is greater than the maximum of 1"),
        "{instruction}"
    );
}

#[tokio::test]
async fn raw_line_breaks_inside_strings_are_read_as_escapes_not_rejected() {
    let double = OllamaDouble::start().await;
    // What SmolLM2 writes under llama.cpp's JSON grammar: a literal line break in a string.
    double.reply_next_chat(
        "{\"decision\": \"HOLD\", \"confidence\": 0.5, \"rationale\": \"Mixed.\nWait.\\\"x\\\"\", \"risks\": [\"a\\\\\"]}",
    );
    let reply = ask(&client(&double), &request()).await.expect("read, not repaired");
    assert_eq!(reply.attempts, 1);
    assert_eq!(reply.value["rationale"], "Mixed.\nWait.\"x\"");
    assert_eq!(reply.value["risks"][0], "a\\");
}
