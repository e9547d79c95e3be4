//! Building and running the API: `Application::build` binds the listener (port 0 in tests),
//! `run_until_stopped` serves until the shutdown token fires.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    config::ApiConfig,
    events::EventHub,
    metrics::Metrics,
    routes, server,
    state::{App, AppState},
    submit::Submitter,
};

pub struct Application {
    listener: TcpListener,
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
        let events = EventHub::start(pool.clone(), config.streams, shutdown.clone());
        let app = App { config, pool, producer, submitter, events, metrics: Metrics::install() };
        Ok(Self { listener, state: AppState(Arc::new(app)), shutdown })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "API listening");
        let limits = self.state.config.http;
        server::serve(self.listener, routes::router(self.state), limits, self.shutdown).await;
        Ok(())
    }
}
