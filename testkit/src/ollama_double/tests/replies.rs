use serde_json::{Value, json};

use super::{OllamaDouble, chat_body, decision_schema, is_valid, ndjson, post, post_raw};

fn content_of(reply: &Value) -> Value {
    let content = reply["message"]["content"].as_str().expect("message.content is a string");
    serde_json::from_str(content).unwrap_or_else(|e| panic!("{content:?} is not JSON: {e}"))
}

#[tokio::test]
async fn a_non_streamed_reply_has_ollamas_fields_and_fits_the_schema() {
    let double = OllamaDouble::start().await;
    let (status, reply) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(reply["model"], "qwen2.5:3b");
    assert_eq!(reply["message"]["role"], "assistant");
    assert_eq!(reply["done"], true);
    assert_eq!(reply["done_reason"], "stop");
    assert!(reply["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{reply}");
    for stat in ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration"] {
        assert!(reply[stat].as_u64().is_some_and(|n| n > 0), "{stat} in {reply}");
    }
    assert!(reply["eval_count"].as_u64().is_some_and(|n| n > 0) && reply["eval_duration"].is_u64());
    let decision = content_of(&reply);
    assert!(is_valid(&decision_schema(), &decision), "{decision} breaks the schema");
    assert_eq!(decision["decision"], "BUY", "the first enum value by default");
}

#[tokio::test]
async fn a_preferred_enum_value_is_chosen() {
    let double = OllamaDouble::start().await;
    double.prefer_enum_value("SELL");
    let (_, reply) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert_eq!(content_of(&reply)["decision"], "SELL");
}

#[tokio::test]
async fn a_chat_streams_ndjson_by_default() {
    let double = OllamaDouble::start().await;
    let mut body = chat_body(json!({}));
    body.as_object_mut().unwrap().remove("stream");
    let (status, text) = post_raw(&double, "/api/chat", &body.to_string()).await;
    assert_eq!(status, 200);
    let chunks = ndjson(&text);
    let (last, pieces) = chunks.split_last().expect("at least the final chunk");
    assert!(pieces.len() > 1, "content arrives in several pieces: {text}");
    assert!(pieces.iter().all(|c| c["done"] == false && c["message"]["role"] == "assistant"));
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert!(last["eval_count"].is_u64() && last["total_duration"].is_u64(), "{last}");
    let content: String =
        pieces.iter().map(|c| c["message"]["content"].as_str().unwrap()).collect();
    let decision: Value = serde_json::from_str(&content).expect("the pieces join to JSON");
    assert!(is_valid(&decision_schema(), &decision), "{decision}");
}

#[tokio::test]
async fn json_mode_replies_with_a_json_object_and_no_format_with_text() {
    let double = OllamaDouble::start().await;
    let (_, reply) = post(&double, "/api/chat", &chat_body(json!({ "format": "json" }))).await;
    assert!(content_of(&reply).is_object());
    let mut plain = chat_body(json!({}));
    plain.as_object_mut().unwrap().remove("format");
    let (_, reply) = post(&double, "/api/chat", &plain).await;
    assert_eq!(reply["message"]["content"], "Hello from the Ollama double.");
}

#[tokio::test]
async fn scripted_replies_match_the_last_user_message_or_the_system_prompt() {
    let double = OllamaDouble::start().await;
    double.script_reply("bear case", r#"{"stage":"bear"}"#);
    double.script_reply("careful analyst", r#"{"stage":"system"}"#);
    let bear =
        chat_body(json!({ "messages": [{ "role": "user", "content": "Write the bear case." }] }));
    let (_, reply) = post(&double, "/api/chat", &bear).await;
    assert_eq!(reply["message"]["content"], r#"{"stage":"bear"}"#);
    let (_, reply) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert_eq!(
        reply["message"]["content"], r#"{"stage":"system"}"#,
        "matched by the system prompt"
    );
}

#[tokio::test]
async fn a_queued_raw_reply_is_used_once() {
    let double = OllamaDouble::start().await;
    double.reply_next_chat("not json at all");
    let (_, first) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert_eq!(first["message"]["content"], "not json at all");
    let (_, second) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert!(is_valid(&decision_schema(), &content_of(&second)));
}

#[tokio::test]
async fn an_empty_conversation_loads_the_model() {
    let double = OllamaDouble::start().await;
    let (status, reply) = post(&double, "/api/chat", &chat_body(json!({ "messages": [] }))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (reply["done_reason"].as_str(), reply["message"]["content"].as_str()),
        (Some("load"), Some(""))
    );
}

#[tokio::test]
async fn every_request_is_recorded_with_its_path_and_body() {
    let double = OllamaDouble::start().await;
    let body = chat_body(json!({}));
    post(&double, "/api/chat", &body).await;
    post_raw(&double, "/api/chat", "{oops").await;
    assert_eq!(double.chat_calls(), 2, "rejected calls count too");
    assert_eq!(double.chat_requests(), vec![body, Value::String("{oops".into())]);
    double.reset_counters();
    assert_eq!((double.chat_calls(), double.requests().len()), (0, 0));
}

#[tokio::test]
async fn a_reply_longer_than_num_predict_is_cut_there_with_done_reason_length() {
    let double = OllamaDouble::start().await;
    let long = json!({ "decision": "HOLD", "rationale": "r".repeat(400) }).to_string();
    double.reply_next_chat(long.clone());
    let options = json!({ "options": { "temperature": 0.0, "num_ctx": 8192, "num_predict": 50 } });
    let (_, reply) = post(&double, "/api/chat", &chat_body(options.clone())).await;
    assert_eq!(
        (reply["done_reason"].as_str(), reply["eval_count"].as_u64()),
        (Some("length"), Some(50))
    );
    let content = reply["message"]["content"].as_str().unwrap();
    assert_eq!(content, &long[..200], "four characters per token, cut where generation stopped");
    // A reply that fits is whole.
    let (_, reply) = post(&double, "/api/chat", &chat_body(options)).await;
    assert_eq!(reply["done_reason"], "stop");
    assert!(is_valid(&decision_schema(), &content_of(&reply)));
}

#[tokio::test]
async fn a_looping_reply_runs_to_num_predict_or_else_to_the_context() {
    let double = OllamaDouble::start().await;
    double.loop_next_chats(2);
    let budget = json!({ "options": { "num_ctx": 8192, "num_predict": 64 } });
    let (_, reply) = post(&double, "/api/chat", &chat_body(budget)).await;
    assert_eq!(
        (reply["done_reason"].as_str(), reply["eval_count"].as_u64()),
        (Some("length"), Some(64))
    );
    let content = reply["message"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("{\"confidence\": \";;;;") && content.ends_with(";;;;"),
        "{content}"
    );
    let unlimited = json!({ "options": { "num_ctx": 1024, "num_predict": -1 } });
    let (_, reply) = post(&double, "/api/chat", &chat_body(unlimited)).await;
    assert_eq!(
        (reply["done_reason"].as_str(), reply["eval_count"].as_u64()),
        (Some("length"), Some(1024))
    );
    let (_, reply) = post(&double, "/api/chat", &chat_body(json!({}))).await;
    assert_eq!(reply["done_reason"], "stop", "two loops queued, two consumed");
}
