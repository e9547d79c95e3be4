//! The worker process: apalis consumers, the sweeper, the wake-up subscriber and the health
//! port, plus graceful shutdown.

mod consumer;
mod health;
pub mod sweeper;
mod wake;

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use apalis::prelude::Monitor;
use metrics_exporter_prometheus::PrometheusHandle;
use shared::{job::JobKind, queue::Producer};
use tokio::{
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tokio_util::sync::CancellationToken;

use crate::{
    config::{LlmApi, WorkerConfig},
    execute::{Batcher, Inflight},
    job::{Services, StopReason},
    llm::{LlmClient, ollama::OllamaClient, openai::OpenAiClient},
};

/// Everything a job execution can reach.
pub struct Runtime {
    /// What pipelines may use: settings, the LLM client, the database.
    pub services: Services,
    pub producer: Producer,
    pub inflight: Inflight,
    pub metrics: PrometheusHandle,
    /// Claims and final writes, batched across the jobs running at the same time.
    pub batcher: Batcher,
    /// Jobs run at once per kind. Held by the job itself, not by the apalis handler, so the
    /// limit also holds for jobs that outlive a restarted consumer.
    permits: HashMap<JobKind, Arc<Semaphore>>,
}

impl Runtime {
    pub async fn permit(&self, kind: JobKind) -> OwnedSemaphorePermit {
        let semaphore = self.permits.get(&kind).expect("a semaphore per kind").clone();
        semaphore.acquire_owned().await.expect("semaphores are never closed")
    }
}

/// The client `LLM_API` names.
fn llm_client(config: &WorkerConfig) -> anyhow::Result<LlmClient> {
    let llm = &config.llm;
    Ok(match llm.api {
        LlmApi::Ollama => LlmClient::Ollama {
            client: OllamaClient::new(&llm.url, llm.timeout).context("invalid OLLAMA_URL")?,
            num_ctx: llm.num_ctx,
        },
        LlmApi::OpenAi => {
            let base = llm.base_url.as_deref().unwrap_or_default();
            LlmClient::OpenAi(
                OpenAiClient::new(base, llm.api_key.clone(), llm.response_format, llm.timeout)
                    .context("invalid LLM_BASE_URL")?,
            )
        }
    })
}

pub struct WorkerApp {
    rt: Arc<Runtime>,
    health: TcpListener,
    shutdown: CancellationToken,
}

impl WorkerApp {
    pub async fn build(config: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let (pool, producer) = config.common.connect().await?;
        let llm = llm_client(&config)?;
        let health = TcpListener::bind(config.health_addr)
            .await
            .with_context(|| format!("binding WORKER_HEALTH_ADDR {}", config.health_addr))?;
        let permits = JobKind::ALL
            .iter()
            .map(|k| (*k, Arc::new(Semaphore::new(config.concurrency(*k)))))
            .collect();
        let (redis, prefix) = producer.redis();
        let limiter = shared::rate_limit::RateLimiter::new(redis, prefix);
        let batcher = Batcher::start(pool.clone(), config.name.clone(), config.lease);
        let rt = Runtime {
            batcher,
            services: Services::new(config, llm, pool, Some(limiter)),
            producer,
            inflight: Inflight::default(),
            metrics: shared::metrics::install(),
            permits,
        };
        Ok(Self { rt: Arc::new(rt), health, shutdown })
    }

    pub fn health_addr(&self) -> SocketAddr {
        self.health.local_addr().expect("bound listener has an address")
    }

    pub fn runtime(&self) -> Arc<Runtime> {
        self.rt.clone()
    }

    /// Runs until the shutdown token fires, then drains: no new jobs; in-flight ones get
    /// `SHUTDOWN_TIMEOUT_S` to finish and are otherwise handed back to the queue at once.
    pub async fn run(self) -> anyhow::Result<()> {
        let Self { rt, health, shutdown } = self;
        let config = &rt.services.config;
        tracing::info!(worker = %config.name, queues = ?config.queues, analysis_concurrency = config.analysis_concurrency,
            training_concurrency = config.training_concurrency, "worker starting");
        let background = CancellationToken::new();
        tokio::spawn(health::serve(health, rt.clone(), background.clone()));
        tokio::spawn(sweeper::run(rt.clone(), background.clone()));
        if config.queues.contains(&JobKind::Analysis) {
            let rt = rt.clone();
            tokio::spawn(async move { crate::pipeline::prepare_model(&rt.services).await });
        }
        let wakers = wake::Wakers::spawn(
            config.common.redis_url.clone(),
            config.common.queue_prefix.clone(),
            &config.queues,
            background.clone(),
        );
        let mut monitor = Monitor::new()
            .shutdown_timeout(config.shutdown_timeout)
            .should_restart(|ctx, err| {
                metrics::counter!("tradeforge_consumer_restarts_total").increment(1);
                tracing::warn!(consumer = ctx.name(), error.message = %err, "queue consumer failed; restarting it");
                true
            });
        for &kind in &config.queues {
            monitor = consumer::register(monitor, rt.clone(), kind, wakers.clone());
        }
        let signal = shutdown.clone();
        let started_shutdown = Arc::new(std::sync::OnceLock::new());
        let mark = started_shutdown.clone();
        // Spawned onto the runtime's worker threads rather than polled by whoever awaits `run`
        // (the binary's main thread): consumers and the jobs they start then hand work to each
        // other without a cross-thread wake-up per job.
        let consumers = tokio::spawn(monitor.run_with_signal(async move {
            signal.cancelled().await;
            mark.get_or_init(tokio::time::Instant::now);
            Ok(())
        }));
        match consumers.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error.message = %e, "queue consumers stopped with an error")
            }
            Err(e) => tracing::error!(error.message = %e, "queue consumers panicked"),
        }
        let since = *started_shutdown.get_or_init(tokio::time::Instant::now);
        drain(&rt, since + rt.services.config.shutdown_timeout).await;
        background.cancel();
        tracing::info!("worker stopped");
        Ok(())
    }
}

/// Waits for in-flight jobs until `deadline`, then stops the rest and hands them back.
async fn drain(rt: &Runtime, deadline: tokio::time::Instant) {
    while !rt.inflight.is_empty() && tokio::time::Instant::now() < deadline {
        tracing::info!(running = rt.inflight.len(), "waiting for running jobs to finish");
        tokio::time::sleep(Duration::from_millis(200).min(deadline - tokio::time::Instant::now()))
            .await;
    }
    if rt.inflight.is_empty() {
        return;
    }
    let stopped = rt.inflight.stop_all(StopReason::Shutdown);
    tracing::warn!(
        jobs = stopped.len(),
        "grace period over: handing running jobs back to the queue"
    );
    // The pipelines release their claims when they see the stop; do it here too in case one
    // is stuck in a long call, then give them a moment to finish their writes.
    if let Err(e) = shared::db::claims::release(&rt.services.pool, &stopped).await {
        tracing::warn!(error.message = %e, "could not hand jobs back; their leases will expire");
    }
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    while !rt.inflight.is_empty() && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
