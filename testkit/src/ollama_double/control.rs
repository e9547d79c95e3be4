//! The test-facing handle of the double: fault injection, scripted replies, the model list and
//! what was received. Cheap to clone; every clone steers the same server.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use super::wire::canonical_model_name;

/// Ollama's own wording when its request queue is full (`OLLAMA_MAX_QUEUE`).
pub const SERVER_BUSY: &str = "server busy, please try again.  maximum pending requests exceeded";

/// One request as the double received it, for assertions on what a client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The parsed JSON body; `Value::String(raw)` when the body was not JSON, `Null` when empty.
    pub body: Value,
}

/// An HTTP failure to answer instead of a reply: the status and Ollama's `{"error": ..}` text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HttpFailure {
    pub status: u16,
    pub message: String,
    /// Sent as `Retry-After` (seconds).
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PullFault {
    /// An `{"error": ..}` line inside the stream (a 500 body when `stream:false`).
    ErrorLine(String),
    /// The connection is cut halfway through the stream.
    Drop,
}

/// What one `/api/chat` call should do, decided when it arrives (faults are consumed in order).
#[derive(Debug, Default)]
pub(crate) struct ChatPlan {
    pub failure: Option<HttpFailure>,
    pub delay: Duration,
    pub drop_connection: bool,
    pub raw_reply: Option<String>,
    pub break_schema: bool,
    pub looping: bool,
    /// Silence in the middle of the streamed reply.
    pub stall: Option<Duration>,
}

#[derive(Debug, Default)]
struct State {
    models: Vec<String>,
    chat_failures: VecDeque<HttpFailure>,
    chat_delays: VecDeque<Duration>,
    chat_drops: usize,
    schema_breaks: usize,
    loops: usize,
    stalls: VecDeque<Duration>,
    broken_seeds: Vec<i64>,
    refuse_json_schema: bool,
    api_key: Option<String>,
    raw_replies: VecDeque<String>,
    scripts: Vec<(String, String)>,
    enum_preferences: Vec<Value>,
    pull_faults: VecDeque<PullFault>,
    requests: Vec<RecordedRequest>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    recording: AtomicBool,
    chat_delay_ms: AtomicU64,
    chat_calls: AtomicUsize,
    pull_calls: AtomicUsize,
    chats_in_flight: AtomicUsize,
    max_chats_in_flight: AtomicUsize,
}

/// Steers and inspects a running double. Faults queue up: `fail_next_chats(2, ..)` followed by
/// `fail_next_chats(1, ..)` fails the next three calls in that order.
#[derive(Debug, Clone)]
pub struct DoubleControl {
    shared: Arc<Shared>,
}

impl DoubleControl {
    /// A control for a double that has `models` installed. Recording of requests is on.
    pub fn new(models: &[&str]) -> Self {
        let control = Self { shared: Arc::default() };
        control.shared.recording.store(true, Ordering::Relaxed);
        for model in models {
            control.add_model(model);
        }
        control
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide the real failure.
        self.shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // --- models -------------------------------------------------------------------------------

    pub fn add_model(&self, name: &str) {
        let name = canonical_model_name(name);
        let mut state = self.state();
        if !state.models.contains(&name) {
            state.models.push(name);
        }
    }

    pub fn remove_model(&self, name: &str) {
        let name = canonical_model_name(name);
        self.state().models.retain(|m| *m != name);
    }

    /// Installed models, canonical names (`llama3` is listed as `llama3:latest`).
    pub fn models(&self) -> Vec<String> {
        self.state().models.clone()
    }

    pub fn has_model(&self, name: &str) -> bool {
        let name = canonical_model_name(name);
        self.state().models.contains(&name)
    }

    // --- faults on /api/chat ------------------------------------------------------------------

    /// The next `n` chat calls answer `status` with `{"error": message}`.
    pub fn fail_next_chats(&self, n: usize, status: u16, message: impl Into<String>) {
        let failure = HttpFailure { status, message: message.into(), retry_after: None };
        self.state().chat_failures.extend(std::iter::repeat_n(failure, n));
    }

    /// The next `n` chat calls answer 503 "server busy" with `Retry-After: seconds`.
    pub fn busy_next_chats_retry_after(&self, n: usize, seconds: u64) {
        let failure =
            HttpFailure { status: 503, message: SERVER_BUSY.into(), retry_after: Some(seconds) };
        self.state().chat_failures.extend(std::iter::repeat_n(failure, n));
    }

    /// The next `n` streamed chat calls send half their reply, then nothing for `pause`, then
    /// the rest: a generation that got stuck.
    pub fn stall_next_chats(&self, n: usize, pause: Duration) {
        self.state().stalls.extend(std::iter::repeat_n(pause, n));
    }

    /// Every call sampling with `seed` replies with JSON that breaks its schema, at any
    /// temperature: a deterministic model that is wrong for this seed, so only a call with
    /// another seed can succeed.
    pub fn break_schema_for_seed(&self, seed: i64) {
        self.state().broken_seeds.push(seed);
    }

    /// Whether `seed` is one [`Self::break_schema_for_seed`] registered.
    pub(crate) fn seed_is_broken(&self, seed: Option<i64>) -> bool {
        seed.is_some_and(|seed| self.state().broken_seeds.contains(&seed))
    }

    /// The OpenAI-compatible endpoint behaves as llama.cpp's Python server does: it answers
    /// `response_format: {type: "json_schema"}` with a 500 naming it, accepts only
    /// `{type: "json_object", schema}`, and ignores `stream_options` (no usage in streams).
    pub fn refuse_json_schema(&self, refuse: bool) {
        self.state().refuse_json_schema = refuse;
    }

    /// The OpenAI-compatible endpoint wants `Authorization: Bearer <key>` (401 otherwise).
    pub fn require_api_key(&self, key: impl Into<String>) {
        self.state().api_key = Some(key.into());
    }

    pub(crate) fn api_key(&self) -> Option<String> {
        self.state().api_key.clone()
    }

    pub(crate) fn refuses_json_schema(&self) -> bool {
        self.state().refuse_json_schema
    }

    /// The next `n` chat calls get Ollama's 503 "server busy" answer.
    pub fn busy_next_chats(&self, n: usize) {
        self.fail_next_chats(n, 503, SERVER_BUSY);
    }

    /// The next `n` chat calls reply with well-formed JSON that breaks the request's schema.
    pub fn break_schema_next_chats(&self, n: usize) {
        self.state().schema_breaks += n;
    }

    /// The next `n` chat calls loop inside the schema, as a small model under grammar
    /// constraints can (`{"summary": ";;;;…`), until `num_predict` (or the context) cuts them
    /// off with `done_reason: "length"`.
    pub fn loop_next_chats(&self, n: usize) {
        self.state().loops += n;
    }

    /// The next chat call replies with exactly `content` (queued: one call per registration).
    pub fn reply_next_chat(&self, content: impl Into<String>) {
        self.state().raw_replies.push_back(content.into());
    }

    /// Every chat call whose last user message or system prompt contains `needle` replies with
    /// `content`. The first registered match wins.
    pub fn script_reply(&self, needle: impl Into<String>, content: impl Into<String>) {
        self.state().scripts.push((needle.into(), content.into()));
    }

    /// When a schema's `enum` offers `value`, generated replies pick it instead of the first.
    pub fn prefer_enum_value(&self, value: impl Into<Value>) {
        self.state().enum_preferences.insert(0, value.into());
    }

    /// The next `n` chat calls wait `delay` (on top of the global delay) before answering.
    pub fn delay_next_chats(&self, n: usize, delay: Duration) {
        self.state().chat_delays.extend(std::iter::repeat_n(delay, n));
    }

    /// Every chat call waits `delay` before answering: the model's "generation time".
    pub fn set_chat_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.chat_delay_ms.store(ms, Ordering::Relaxed);
    }

    /// The next `n` chat calls send part of their body and then cut the connection.
    pub fn drop_next_chats(&self, n: usize) {
        self.state().chat_drops += n;
    }

    // --- faults on /api/pull ------------------------------------------------------------------

    /// The next pull streams some progress, then an `{"error": message}` line.
    pub fn fail_next_pull(&self, message: impl Into<String>) {
        self.state().pull_faults.push_back(PullFault::ErrorLine(message.into()));
    }

    /// The next pull streams some progress, then the connection is cut.
    pub fn drop_next_pull(&self) {
        self.state().pull_faults.push_back(PullFault::Drop);
    }

    // --- what was received --------------------------------------------------------------------

    /// Keep (true, the default) or stop keeping request bodies; counters run either way.
    /// Benchmarks turn it off so memory stays flat over many thousands of calls.
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// The bodies of every `/api/chat` request received, in arrival order.
    pub fn chat_requests(&self) -> Vec<Value> {
        let state = self.state();
        state.requests.iter().filter(|r| r.path == "/api/chat").map(|r| r.body.clone()).collect()
    }

    pub fn chat_calls(&self) -> usize {
        self.shared.chat_calls.load(Ordering::SeqCst)
    }

    pub fn pull_calls(&self) -> usize {
        self.shared.pull_calls.load(Ordering::SeqCst)
    }

    pub fn chats_in_flight(&self) -> usize {
        self.shared.chats_in_flight.load(Ordering::SeqCst)
    }

    /// The most `/api/chat` calls that were being served at the same moment.
    pub fn max_concurrent_chats(&self) -> usize {
        self.shared.max_chats_in_flight.load(Ordering::SeqCst)
    }

    /// Forget recorded requests and counters (faults and models stay).
    pub fn reset_counters(&self) {
        self.state().requests.clear();
        self.shared.chat_calls.store(0, Ordering::SeqCst);
        self.shared.pull_calls.store(0, Ordering::SeqCst);
        self.shared.max_chats_in_flight.store(self.chats_in_flight(), Ordering::SeqCst);
    }

    // --- used by the handlers -----------------------------------------------------------------

    pub(crate) fn record(&self, method: &str, path: &str, body: &[u8]) {
        if !self.shared.recording.load(Ordering::Relaxed) {
            return;
        }
        let body = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(_) if body.is_empty() => Value::Null,
            Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
        };
        let request = RecordedRequest { method: method.into(), path: path.into(), body };
        self.state().requests.push(request);
    }

    /// Counts a chat call and marks it in flight until the returned guard is dropped.
    pub(crate) fn enter_chat(&self) -> InFlight {
        self.shared.chat_calls.fetch_add(1, Ordering::SeqCst);
        let now = self.shared.chats_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.max_chats_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight { shared: Arc::clone(&self.shared) }
    }

    pub(crate) fn count_pull(&self) {
        self.shared.pull_calls.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn plan_chat(&self) -> ChatPlan {
        let global = Duration::from_millis(self.shared.chat_delay_ms.load(Ordering::Relaxed));
        let mut state = self.state();
        let failure = state.chat_failures.pop_front();
        let extra = state.chat_delays.pop_front().unwrap_or_default();
        if failure.is_some() {
            return ChatPlan { failure, delay: global + extra, ..ChatPlan::default() };
        }
        let drop_connection = take_one(&mut state.chat_drops);
        let raw_reply = state.raw_replies.pop_front();
        let looping = raw_reply.is_none() && take_one(&mut state.loops);
        let break_schema = raw_reply.is_none() && !looping && take_one(&mut state.schema_breaks);
        let delay = global + extra;
        let stall = state.stalls.pop_front();
        ChatPlan { failure: None, delay, drop_connection, raw_reply, break_schema, looping, stall }
    }

    pub(crate) fn scripted_reply(&self, last_user: &str, system: &str) -> Option<String> {
        let state = self.state();
        let hit = state.scripts.iter().find(|(needle, _)| {
            last_user.contains(needle.as_str()) || system.contains(needle.as_str())
        });
        hit.map(|(_, content)| content.clone())
    }

    pub(crate) fn enum_preferences(&self) -> Vec<Value> {
        self.state().enum_preferences.clone()
    }

    pub(crate) fn take_pull_fault(&self) -> Option<PullFault> {
        self.state().pull_faults.pop_front()
    }
}

fn take_one(counter: &mut usize) -> bool {
    let had = *counter > 0;
    *counter = counter.saturating_sub(1);
    had
}

/// Marks one `/api/chat` call as being served; moved into a streamed body so a stream counts
/// as in flight until its last byte is sent.
pub(crate) struct InFlight {
    shared: Arc<Shared>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.chats_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
