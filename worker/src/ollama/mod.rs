//! Talking to Ollama: a thin client for its native API (`/api/chat`, `/api/tags`,
//! `/api/pull`), start-up model checks, and schema-validated structured calls.
//!
//! Errors keep Ollama's HTTP status and its own `error` text, and say whether a retry can help
//! ([`OllamaError::is_transient`], [`LlmError::is_transient`]): unreachable, timed out, 5xx and
//! broken streams are transient; 400, unknown models and malformed answers are permanent.

mod budget;
mod client;
mod error;
mod models;
mod structured;
mod types;

#[cfg(test)]
mod tests;

pub use budget::output_tokens;
pub use client::OllamaClient;
pub use error::OllamaError;
pub use models::{canonical_model_name, is_same_model};
pub use structured::{JsonSchema, LlmError, StructuredReply, StructuredRequest, chat_structured};
pub use types::{
    ChatMessage, ChatOptions, ChatRequest, ChatResponse, Format, ModelDetails, ModelSummary,
    PullProgress, Role,
};
