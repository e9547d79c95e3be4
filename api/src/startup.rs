//! Building and running the API: `Application::build` binds the listener (port 0 in tests),
//! `run_until_stopped` serves until the shutdown token fires.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use shared::{market::online::OnlineData, rate_limit::RateLimiter};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    auth::{AuthMode, cache::KeyCache},
    config::ApiConfig,
    events::EventHub,
    metrics::Metrics,
    routes, server,
    state::{App, AppState},
    submit::Submitter,
};

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    shutdown: CancellationToken,
}

impl Application {
    pub async fn build(config: ApiConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let (pool, producer) = config.common.connect().await?;
        let submitter = Submitter::start(
            pool.clone(),
            producer.clone(),
            config.queue_max_backlog,
            shutdown.clone(),
        );
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding API_ADDR {}", config.addr))?;
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding METRICS_ADDR {addr}"))?,
            ),
            None => None,
        };
        let events = EventHub::start(pool.clone(), config.streams, shutdown.clone());
        let (redis, prefix) = producer.redis();
        let app = App {
            keys: KeyCache::new(config.auth.cache_ttl, config.auth.quotas),
            rate: RateLimiter::new(redis.clone(), prefix),
            online: OnlineData::new(
                pool.clone(),
                &config.common.market,
                Some(RateLimiter::new(redis, prefix)),
            ),
            config,
            pool,
            producer,
            submitter,
            events,
            metrics: Metrics::install(),
            forecast_slots: Arc::new(Semaphore::new(routes::models::FORECAST_SLOTS)),
        };
        Ok(Self { listener, metrics_listener, state: AppState(Arc::new(app)), shutdown })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Where the separate `/metrics` listener is bound (`METRICS_ADDR`).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "API listening");
        if self.state.config.auth.mode == AuthMode::Disabled {
            tracing::warn!(
                "AUTH_MODE=disabled: anyone who can reach {} may submit, read, cancel and retry every job. \
                 Use this only for a local single-user setup, never on a shared network.",
                self.local_addr()
            );
        }
        let limits = self.state.config.http;
        if let Some(listener) = self.metrics_listener {
            tracing::info!(addr = ?listener.local_addr().ok(), "metrics listening (no key needed there)");
            let router = routes::metrics_router(self.state.clone());
            tokio::spawn(server::serve(listener, router, limits, self.shutdown.clone()));
        }
        server::serve(self.listener, routes::router(self.state), limits, self.shutdown).await;
        Ok(())
    }
}
