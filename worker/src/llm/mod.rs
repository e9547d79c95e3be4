//! Talking to the model server: Ollama's native API (the default) or an OpenAI-compatible one
//! (vLLM, llama.cpp's server, LM Studio, hosted APIs), behind one [`LlmClient`]; streamed calls
//! under stall bounds ([`StreamLimits`]); schema-validated structured replies with a repair
//! round ([`chat_structured`]); token budgets from reply schemas ([`output_tokens`]).
//!
//! Errors keep the server's HTTP status and its own error text, and say whether a retry can
//! help ([`ServerError::is_transient`], [`LlmError::is_transient`]): unreachable, stalled, 429
//! and 5xx are transient; 400, 401, 404 and malformed answers are permanent.

mod budget;
mod client;
mod endpoint;
mod error;
pub mod ollama;
pub mod openai;
mod stream;
mod structured;
mod usage;

#[cfg(test)]
mod tests;

pub use budget::output_tokens;
pub use client::{ChatCall, Generated, LlmClient, Sampling};
pub use error::ServerError;
pub use ollama::{ChatMessage, Role};
pub use stream::StreamLimits;
pub use structured::{
    Clamped, JsonSchema, LlmError, StructuredReply, StructuredRequest, chat_structured,
};
pub use usage::{CallUsage, Usage};
