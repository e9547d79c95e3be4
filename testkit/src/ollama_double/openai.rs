//! The OpenAI-compatible face of the double (`/v1/chat/completions`, `/v1/models`), as vLLM
//! and llama.cpp's servers speak it: the same "model", faults and token limits as `/api/chat`,
//! answered as server-sent events (`data: {chunk}` … `data: [DONE]`) or one JSON object.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::chat::{bounded, content, tokens};
use super::control::DoubleControl;
use super::validate;
use super::wire;

pub(crate) async fn chat_completions(
    State(control): State<DoubleControl>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    control.record("POST", "/v1/chat/completions", &body);
    let in_flight = control.enter_chat();
    if let Some(expected) = control.api_key() {
        let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
        if sent != Some(format!("Bearer {expected}").as_str()) {
            return openai_error(401, "invalid_api_key", "Incorrect API key provided");
        }
    }
    if control.refuses_json_schema() && asks_json_schema(&body) {
        // llama-cpp-python's answer, word for word in its essentials: a 500 from validation.
        let message = "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', \
                       'response_format', 'type'), 'msg': \"Input should be 'text' or \
                       'json_object'\", 'input': 'json_schema'}";
        return openai_error(500, "internal_server_error", message);
    }
    let (call, include_usage) = match validate::openai_chat_request(&body) {
        Ok(parsed) => parsed,
        Err(message) => return openai_error(400, "invalid_request_error", &message),
    };
    // llama-cpp-python ignores `stream_options`: no usage in its streams.
    let include_usage = include_usage && !control.refuses_json_schema();
    if !control.has_model(&call.model) {
        let message = format!("The model `{}` does not exist", call.model);
        return openai_error(404, "model_not_found", &message);
    }
    let plan = control.plan_chat();
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some(failure) = plan.failure {
        return wire::failure(failure);
    }
    let (text, cut_off) = bounded(content(&control, &call, &plan), &call);
    let finish_reason = if cut_off { "length" } else { "stop" };
    let prompt_chars: usize = call.messages.iter().map(|(_, c)| c.chars().count()).sum();
    let usage = json!({
        "prompt_tokens": tokens(prompt_chars),
        "completion_tokens": tokens(text.chars().count()),
        "total_tokens": tokens(prompt_chars) + tokens(text.chars().count()),
    });
    let response = if call.stream {
        let chunk = |delta: Value, finish: Option<&str>| {
            json!({
                "id": "chatcmpl-double",
                "object": "chat.completion.chunk",
                "created": chrono::Utc::now().timestamp(),
                "model": call.model,
                "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
            })
        };
        let mut events = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
        events.extend(
            wire::token_pieces(&text).into_iter().map(|p| chunk(json!({ "content": p }), None)),
        );
        events.push(chunk(json!({}), Some(finish_reason)));
        if include_usage {
            events.push(json!({
                "id": "chatcmpl-double",
                "object": "chat.completion.chunk",
                "model": call.model,
                "choices": [],
                "usage": usage,
            }));
        }
        let mut lines: Vec<Bytes> =
            events.iter().map(|e| Bytes::from(format!("data: {e}\n\n"))).collect();
        lines.push(Bytes::from_static(b"data: [DONE]\n\n"));
        wire::chunked("text/event-stream", lines, plan.drop_connection, plan.stall)
    } else {
        axum::Json(json!({
            "id": "chatcmpl-double",
            "object": "chat.completion",
            "created": chrono::Utc::now().timestamp(),
            "model": call.model,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": text },
                "finish_reason": finish_reason,
            }],
            "usage": usage,
        }))
        .into_response()
    };
    drop(in_flight);
    response
}

pub(crate) async fn models(State(control): State<DoubleControl>) -> Response {
    let data: Vec<Value> = control
        .models()
        .into_iter()
        .map(|id| json!({ "id": id, "object": "model", "owned_by": "double" }))
        .collect();
    axum::Json(json!({ "object": "list", "data": data })).into_response()
}

fn asks_json_schema(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .is_ok_and(|b| b["response_format"]["type"] == "json_schema")
}

/// OpenAI's error body: `{"error": {"message", "type", "code"}}`.
fn openai_error(status: u16, code: &str, message: &str) -> Response {
    let status = axum::http::StatusCode::from_u16(status).unwrap_or_default();
    let body = json!({ "error": { "message": message, "type": code, "code": code } });
    (status, axum::Json(body)).into_response()
}
