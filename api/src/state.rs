//! What every handler can reach.

use std::sync::Arc;

use shared::queue::Producer;
use sqlx::PgPool;

use crate::{
    auth::cache::KeyCache, config::ApiConfig, events::EventHub, metrics::Metrics,
    quota::rate::RateLimiter, submit::Submitter,
};

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

pub struct App {
    pub config: ApiConfig,
    pub pool: PgPool,
    pub producer: Producer,
    pub submitter: Submitter,
    pub events: EventHub,
    pub metrics: Metrics,
    pub keys: KeyCache,
    pub rate: RateLimiter,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}
