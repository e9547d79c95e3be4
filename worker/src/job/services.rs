//! What a pipeline may use of the worker: its settings, the LLM client (with the worker's cap
//! on calls at once and the default model's readiness) and the database.

use std::sync::Arc;

use shared::{market::online::OnlineData, rate_limit::RateLimiter};
use sqlx::PgPool;
use tokio::sync::Semaphore;

use super::model_status::ModelStatus;
use crate::{config::WorkerConfig, llm::LlmClient};

pub struct Services {
    pub config: WorkerConfig,
    pub llm: LlmClient,
    /// One permit per LLM call in flight (`LLM_CONCURRENCY`): parallel steps of one job and
    /// the steps of concurrent jobs share it, so the server never sees more than that.
    pub llm_slots: Arc<Semaphore>,
    /// Whether the default model is there, being pulled, or missing (and why).
    pub model_status: ModelStatus,
    pub pool: PgPool,
    /// Online market-data providers, behind the Postgres cache.
    pub online: OnlineData,
}

impl Services {
    /// `limiter` paces requests to market-data providers across workers (`None`: unpaced).
    pub fn new(
        config: WorkerConfig,
        llm: LlmClient,
        pool: PgPool,
        limiter: Option<RateLimiter>,
    ) -> Self {
        let llm_slots = Arc::new(Semaphore::new(config.llm.concurrency));
        let online = OnlineData::new(pool.clone(), &config.common.market, limiter);
        Self { config, llm, llm_slots, model_status: ModelStatus::default(), pool, online }
    }
}
