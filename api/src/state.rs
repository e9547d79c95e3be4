//! What every handler can reach.

use std::sync::Arc;

use shared::{market::online::OnlineData, queue::Producer, rate_limit::RateLimiter};
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::{
    auth::cache::KeyCache, config::ApiConfig, events::EventHub, metrics::Metrics, submit::Submitter,
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
    /// Online market-data providers behind the cache, for `GET /market/{symbol}/bars?fetch=true`.
    pub online: OnlineData,
    /// Forecasts computed at once (`GET /forecast/{symbol}`): each holds a model and its bars in
    /// memory and a CPU busy, so their number is fixed whatever clients send.
    pub forecast_slots: Arc<Semaphore>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}
