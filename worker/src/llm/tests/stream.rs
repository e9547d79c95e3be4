//! Stall bounds on streamed calls, for both APIs: a stuck model is cut in the time its bound
//! says, a slow but steady one is not, and every error says which bound fired.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use testkit::ollama_double::OllamaDouble;

use super::super::openai::ResponseFormat;
use super::super::{ChatCall, ChatMessage, LlmClient, Sampling, ServerError, StreamLimits};
use super::{MODEL, client, decision_schema, openai};

fn both(double: &OllamaDouble) -> [LlmClient; 2] {
    [client(double), openai(double, ResponseFormat::JsonSchema)]
}

async fn generate(
    client: &LlmClient,
    limits: StreamLimits,
) -> (Result<super::super::Generated, ServerError>, Duration, Vec<u64>) {
    let messages = [ChatMessage::system("Be brief."), ChatMessage::user("GOOG?")];
    let schema = decision_schema();
    let call = ChatCall {
        model: MODEL,
        messages: &messages,
        schema: &schema,
        sampling: Sampling { temperature: 0.0, seed: 1 },
        max_tokens: Some(500),
    };
    let seen = Mutex::new(Vec::new());
    let started = Instant::now();
    let result = client.generate(call, limits, &|n| seen.lock().unwrap().push(n)).await;
    (result, started.elapsed(), seen.into_inner().unwrap())
}

fn limits(first_token: u64, load: u64, stall: u64, total: u64) -> StreamLimits {
    StreamLimits {
        first_token: Duration::from_millis(first_token),
        load: Duration::from_millis(load),
        stall: Duration::from_millis(stall),
        total: Duration::from_millis(total),
    }
}

#[tokio::test]
async fn tokens_are_counted_as_they_stream() {
    let double = OllamaDouble::start().await;
    for client in both(&double) {
        let (reply, _, seen) = generate(&client, limits(5_000, 5_000, 5_000, 10_000)).await;
        let reply = reply.expect("a reply");
        assert!(seen.len() > 3 && seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");
        assert!(reply.usage.output_tokens > 0 && reply.usage.prompt_tokens > 0, "{reply:?}");
        assert!(reply.usage.first_token.is_some() && !reply.cut_off, "{reply:?}");
    }
}

#[tokio::test]
async fn a_first_token_later_than_its_bound_fails_fast_but_a_loading_model_gets_longer() {
    let double = OllamaDouble::start().await;
    let client = client(&double);
    let bounds = limits(300, 3_000, 5_000, 10_000);
    double.delay_next_chats(2, Duration::from_millis(1_000));
    let (cold, _, _) = generate(&client, bounds).await;
    assert!(cold.is_ok(), "the model's first call may take OLLAMA_LOAD_TIMEOUT_S: {cold:?}");
    let (warm, took, _) = generate(&client, bounds).await;
    let error = warm.unwrap_err();
    assert!(matches!(error, ServerError::FirstTokenTimeout { .. }) && error.is_transient());
    assert!(took < Duration::from_millis(900), "cut at the bound, not the delay: {took:?}");
    assert!(error.to_string().contains("OLLAMA_FIRST_TOKEN_TIMEOUT_S"), "{error}");
}

#[tokio::test]
async fn a_stream_that_falls_silent_is_cut_at_the_stall_bound() {
    let double = OllamaDouble::start().await;
    for client in both(&double) {
        double.stall_next_chats(1, Duration::from_secs(3));
        let (result, took, seen) = generate(&client, limits(5_000, 5_000, 400, 10_000)).await;
        let error = result.unwrap_err();
        let ServerError::Stalled { tokens, .. } = &error else { panic!("{error:?}") };
        assert!(*tokens > 0 && !seen.is_empty(), "tokens came before the silence: {error}");
        assert!(took < Duration::from_millis(1_500), "{took:?}");
        assert!(error.is_transient() && error.to_string().contains("OLLAMA_STALL_TIMEOUT_S"));
    }
}

#[tokio::test]
async fn the_overall_cap_holds_even_for_a_stream_within_its_stall_bound() {
    let double = OllamaDouble::start().await;
    for client in both(&double) {
        double.stall_next_chats(1, Duration::from_millis(1_500));
        let (result, took, _) = generate(&client, limits(5_000, 5_000, 5_000, 600)).await;
        let error = result.unwrap_err();
        assert!(matches!(error, ServerError::TooSlow { .. }), "{error:?}");
        assert!(took < Duration::from_millis(1_200), "{took:?}");
        assert!(error.to_string().contains("OLLAMA_TIMEOUT_S"), "{error}");
    }
}

#[tokio::test]
async fn a_slow_but_steady_stream_is_not_cut() {
    let double = OllamaDouble::start().await;
    for client in both(&double) {
        // 400 ms of silence mid-stream, under a 1 s stall bound and a 3 s cap.
        double.stall_next_chats(1, Duration::from_millis(400));
        let (result, _, _) = generate(&client, limits(2_000, 2_000, 1_000, 3_000)).await;
        assert!(result.is_ok(), "{result:?}");
    }
}
