//! [`LlmClient`]: one chat call, streamed under [`StreamLimits`], against whichever API the
//! worker is configured for (`LLM_API`).

use serde_json::Value;

use super::error::ServerError;
use super::ollama::{ChatMessage, ChatOptions, ChatRequest, Format, OllamaClient, PullProgress};
use super::openai::OpenAiClient;
use super::stream::StreamLimits;
use super::usage::CallUsage;

/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub enum LlmClient {
    /// Ollama's `/api/chat`; `num_ctx` is sent with every call (Ollama's default truncates).
    Ollama {
        client: OllamaClient,
        num_ctx: u32,
    },
    OpenAi(OpenAiClient),
}

/// How the model samples. Temperature 0 and a fixed seed make a reply reproducible; a retry
/// changes the seed and a repair round warms the temperature, so that they can succeed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    pub temperature: f64,
    pub seed: i64,
}

/// One call: the conversation, the JSON schema the reply must follow, the token budget.
#[derive(Debug, Clone, Copy)]
pub struct ChatCall<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatMessage],
    pub schema: &'a Value,
    pub sampling: Sampling,
    pub max_tokens: Option<u32>,
}

/// A whole reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub content: String,
    /// Stopped by the token budget (`done_reason`/`finish_reason` "length").
    pub cut_off: bool,
    /// The model that answered, as the server names it.
    pub model: String,
    pub usage: CallUsage,
}

impl LlmClient {
    /// "Ollama at <URL>" or "the OpenAI-compatible server at <URL>", for messages and logs.
    pub fn server(&self) -> &str {
        match self {
            Self::Ollama { client, .. } => client.server(),
            Self::OpenAi(client) => client.server(),
        }
    }

    /// One streamed call; `on_tokens` gets the running count of generated tokens.
    pub async fn generate(
        &self,
        call: ChatCall<'_>,
        limits: StreamLimits,
        on_tokens: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Generated, ServerError> {
        match self {
            Self::Ollama { client, num_ctx } => {
                let request = ollama_request(call, *num_ctx);
                let started = tokio::time::Instant::now();
                let first = std::sync::OnceLock::new();
                let on_tokens = |n: u64| {
                    first.get_or_init(|| started.elapsed());
                    on_tokens(n);
                };
                let reply = client.chat_streamed(&request, limits, &on_tokens).await?;
                let usage = CallUsage {
                    prompt_tokens: reply.prompt_eval_count.unwrap_or(0),
                    output_tokens: reply.eval_count.unwrap_or(0),
                    estimated: false,
                    duration: started.elapsed(),
                    first_token: first.get().copied(),
                };
                Ok(Generated {
                    cut_off: reply.done_reason.as_deref() == Some("length"),
                    content: reply.message.content,
                    model: reply.model,
                    usage,
                })
            }
            Self::OpenAi(client) => client.generate(call, limits, on_tokens).await,
        }
    }

    /// Whether `model` can answer: installed on Ollama (pulled first when `pull`), or listed
    /// by the OpenAI-compatible server's `/v1/models`.
    pub async fn ensure_model(
        &self,
        model: &str,
        pull: bool,
        on_pull: &(dyn Fn(&PullProgress) + Send + Sync),
    ) -> Result<(), ServerError> {
        match self {
            Self::Ollama { client, .. } => client.ensure_model(model, pull, on_pull).await,
            Self::OpenAi(client) => client.ensure_model(model).await,
        }
    }

    /// Whether the server can fetch a missing model itself (only Ollama can).
    pub fn can_pull(&self) -> bool {
        matches!(self, Self::Ollama { .. })
    }
}

fn ollama_request(call: ChatCall<'_>, num_ctx: u32) -> ChatRequest {
    let options = ChatOptions {
        temperature: call.sampling.temperature,
        seed: call.sampling.seed,
        num_ctx,
        num_predict: call.max_tokens,
    };
    ChatRequest {
        format: Some(Format::Schema(super::structured::wire_schema(call.schema))),
        options: Some(options),
        // Thinking models would otherwise spend the budget on a hidden monologue.
        think: Some(false),
        ..ChatRequest::new(call.model, call.messages.to_vec())
    }
}
