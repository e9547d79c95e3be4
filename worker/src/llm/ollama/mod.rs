//! Ollama's native API (`/api/chat`, streamed or not, `/api/tags`, `/api/pull`) and the
//! start-up model check. Our own thin client: see `client.rs` for why.

mod client;
mod models;
mod types;

#[cfg(test)]
mod tests;

pub use client::OllamaClient;
pub use models::{canonical_model_name, is_same_model};
pub use types::{
    ChatMessage, ChatOptions, ChatRequest, ChatResponse, Format, ModelDetails, ModelSummary,
    PullProgress, Role,
};
