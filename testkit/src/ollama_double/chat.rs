//! `POST /api/chat`: validate like a picky Ollama, apply the queued faults, then answer with a
//! single JSON object (`stream:false`) or an NDJSON stream (the default).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::control::{ChatPlan, DoubleControl};
use super::schema_instance::{instance_for_schema, violating_instance};
use super::validate::{self, ChatCall, Format};
use super::wire;

pub(crate) async fn chat(State(control): State<DoubleControl>, body: Bytes) -> Response {
    control.record("POST", "/api/chat", &body);
    let in_flight = control.enter_chat();
    let call = match validate::chat_request(&body) {
        Ok(call) => call,
        Err(message) => return wire::error(400, message),
    };
    if !control.has_model(&call.model) {
        let message = format!("model {:?} not found, try pulling it first", call.model);
        return wire::error(404, message);
    }
    let plan = control.plan_chat();
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some(failure) = plan.failure {
        return wire::failure(failure);
    }
    let content =
        if call.messages.is_empty() { String::new() } else { content(&control, &call, &plan) };
    let (content, cut_off) = bounded(content, &call);
    let reply = Reply { call: &call, content, cut_off, delay_ns: nanos(plan.delay) };
    let response = if call.stream {
        let chunks = wire::ndjson_lines(&reply.stream_chunks());
        wire::chunked("application/x-ndjson", chunks, plan.drop_connection, plan.stall)
    } else if plan.drop_connection {
        let body = reply.final_object(true).to_string().into_bytes();
        let (head, tail) = body.split_at(body.len() / 2);
        let chunks = vec![Bytes::copy_from_slice(head), Bytes::copy_from_slice(tail)];
        wire::chunked("application/json; charset=utf-8", chunks, true, None)
    } else {
        axum::Json(reply.final_object(true)).into_response()
    };
    // The "generation" (the delay) is over and the body only carries out what is ready, so
    // the call stops counting as in flight once the response is handed to the server.
    drop(in_flight);
    response
}

/// What the "model" says: a queued raw reply, a deliberate schema break, a scripted reply, or
/// generated content that fits the requested format.
pub(crate) fn content(control: &DoubleControl, call: &ChatCall, plan: &ChatPlan) -> String {
    if let Some(raw) = &plan.raw_reply {
        return raw.clone();
    }
    if plan.looping {
        return looping_reply(call);
    }
    if plan.break_schema || control.seed_is_broken(call.seed) {
        return match &call.format {
            Some(Format::Schema(schema)) => violating_instance(schema).to_string(),
            _ => "Sure! Here is my answer, not in JSON.".into(),
        };
    }
    if let Some(scripted) = control.scripted_reply(call.last_user_message(), &call.system_prompt())
    {
        return scripted;
    }
    match &call.format {
        Some(Format::Schema(schema)) => {
            instance_for_schema(schema, &control.enum_preferences()).to_string()
        }
        Some(Format::Json) => json!({ "response": "ok from the Ollama double" }).to_string(),
        None => "Hello from the Ollama double.".into(),
    }
}

/// The most tokens `call` lets the model generate: `num_predict` when positive, else up to the
/// context (`num_ctx`, Ollama's 2 048 when unset).
fn token_limit(call: &ChatCall) -> u64 {
    match call.num_predict {
        Some(n) if n > 0 => n.unsigned_abs(),
        _ => call.num_ctx.unwrap_or(2_048),
    }
}

/// `content` cut at the token limit, and whether it was: Ollama stops generating there and
/// answers `done_reason: "length"` with whatever it had, usually JSON that does not parse.
pub(crate) fn bounded(content: String, call: &ChatCall) -> (String, bool) {
    let limit = token_limit(call);
    if tokens(content.chars().count()) <= limit {
        return (content, false);
    }
    let keep = usize::try_from(limit.saturating_mul(CHARS_PER_TOKEN)).unwrap_or(usize::MAX);
    (content.chars().take(keep).collect(), true)
}

/// A reply stuck in a loop inside the grammar: a legal start, then the same token over and
/// over, longer than any limit the call may set (`bounded` cuts it).
fn looping_reply(call: &ChatCall) -> String {
    let first_key = match &call.format {
        Some(Format::Schema(schema)) => schema
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| p.keys().next().cloned())
            .unwrap_or_else(|| "value".into()),
        _ => "value".into(),
    };
    let length =
        usize::try_from(token_limit(call).saturating_add(1).saturating_mul(CHARS_PER_TOKEN))
            .unwrap_or(usize::MAX);
    let mut reply = format!("{{\"{first_key}\": \"");
    reply.extend(std::iter::repeat_n(';', length));
    reply
}

struct Reply<'a> {
    call: &'a ChatCall,
    content: String,
    /// Cut off at the token limit: `done_reason: "length"`.
    cut_off: bool,
    delay_ns: u64,
}

impl Reply<'_> {
    /// The last object of a chat: the whole message when not streamed, an empty one when it
    /// ends a stream, plus Ollama's statistics (durations in nanoseconds, counts in tokens).
    fn final_object(&self, with_content: bool) -> Value {
        let prompt_chars: usize = self.call.messages.iter().map(|(_, c)| c.chars().count()).sum();
        let prompt_eval_count = tokens(prompt_chars);
        let eval_count = tokens(self.content.chars().count());
        let load_duration = 1_000_000u64;
        let prompt_eval_duration = prompt_eval_count * 100_000;
        let eval_duration = eval_count * 1_000_000;
        let content = if with_content { self.content.as_str() } else { "" };
        let done_reason = match (self.call.messages.is_empty(), self.cut_off) {
            (true, _) => "load",
            (false, true) => "length",
            (false, false) => "stop",
        };
        json!({
            "model": self.call.model,
            "created_at": wire::now_rfc3339(),
            "message": { "role": "assistant", "content": content },
            "done_reason": done_reason,
            "done": true,
            "total_duration": self.delay_ns + load_duration + prompt_eval_duration + eval_duration,
            "load_duration": load_duration,
            "prompt_eval_count": prompt_eval_count,
            "prompt_eval_duration": prompt_eval_duration,
            "eval_count": eval_count,
            "eval_duration": eval_duration,
        })
    }

    fn stream_chunks(&self) -> Vec<Value> {
        let mut chunks: Vec<Value> = wire::token_pieces(&self.content)
            .into_iter()
            .map(|piece| {
                json!({
                    "model": self.call.model,
                    "created_at": wire::now_rfc3339(),
                    "message": { "role": "assistant", "content": piece },
                    "done": false,
                })
            })
            .collect();
        chunks.push(self.final_object(false));
        chunks
    }
}

/// The double's tokenizer: four characters per token.
pub(crate) const CHARS_PER_TOKEN: u64 = 4;

/// Tokens in `chars` characters: rounded up, never zero.
pub(crate) fn tokens(chars: usize) -> u64 {
    u64::try_from(chars).unwrap_or(u64::MAX).div_ceil(CHARS_PER_TOKEN).max(1)
}

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
