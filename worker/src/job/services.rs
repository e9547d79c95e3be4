//! What a pipeline may use of the worker: its settings, the LLM client and the database.

use sqlx::PgPool;

use crate::{config::WorkerConfig, ollama::OllamaClient};

pub struct Services {
    pub config: WorkerConfig,
    pub ollama: OllamaClient,
    pub pool: PgPool,
}
