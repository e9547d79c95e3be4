use std::{path::PathBuf, sync::Arc, time::Duration};

use api::{ApiConfig, Application};
use serde_json::Value;
use shared::config::CommonConfig;
use testkit::{RedisNamespace, TestDb, ollama_double::OllamaDouble};
use tokio_util::sync::CancellationToken;
use worker::{
    Runtime, WorkerApp, WorkerConfig,
    config::{LlmApi, LlmConfig},
};

pub struct Stack {
    pub base: String,
    pub client: reqwest::Client,
    pub ollama: OllamaDouble,
    pub data: tempfile::TempDir,
    pub results: tempfile::TempDir,
    pub api_state: api::state::AppState,
    pub workers:
        Vec<(Arc<Runtime>, CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    /// Each worker's `/health`, `/ready` and `/metrics` address, in start order.
    pub worker_health: Vec<std::net::SocketAddr>,
    shutdown: CancellationToken,
    pub redis: RedisNamespace,
    pub db: TestDb,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
        for (_, stop, _) in &self.workers {
            stop.cancel();
        }
    }
}

pub fn common(db: &TestDb, redis: &RedisNamespace) -> CommonConfig {
    CommonConfig {
        database_url: db.url.clone(),
        database_max_connections: 8,
        redis_url: redis.url.clone(),
        queue_prefix: redis.prefix.clone(),
        max_attempts: 3,
        max_training_flops: 2e14,
        market: shared::market::sources::MarketDataConfig::offline(),
    }
}

pub fn worker_config(stack: &Stack, name: &str) -> WorkerConfig {
    WorkerConfig {
        common: common(&stack.db, &stack.redis),
        name: format!("{name}-{}", uuid::Uuid::new_v4().simple()),
        queues: vec![shared::job::JobKind::Analysis, shared::job::JobKind::Training],
        analysis_concurrency: 2,
        training_concurrency: 1,
        health_addr: "127.0.0.1:0".parse().unwrap(),
        results_dir: stack.results.path().to_owned(),
        data_dir: stack.data.path().to_owned(),
        analysis_timeout: Duration::from_secs(30),
        training_timeout: Duration::from_secs(120),
        lease: Duration::from_secs(4),
        shutdown_timeout: Duration::from_secs(5),
        heartbeat: Duration::from_secs(1),
        missed_heartbeats: 3,
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(500),
        queue_max_backlog: 2000,
        retry_timed_out_training: false,
        max_data_bytes: 64 << 20,
        max_bars: 1_000_000,
        max_artifact_bytes: 128 << 20,
        max_result_bytes: 512 << 10,
        llm: LlmConfig {
            api: LlmApi::Ollama,
            url: stack.ollama.url(),
            base_url: None,
            api_key: None,
            response_format: worker::llm::openai::ResponseFormat::Auto,
            model: testkit::ollama_double::DEFAULT_MODEL.into(),
            pull: false,
            timeout: Duration::from_secs(10),
            first_token_timeout: Duration::from_secs(5),
            load_timeout: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(5),
            num_ctx: 8192,
            seed: 42,
            token_budgets: Default::default(),
            concurrency: 2,
        },
    }
}

/// API + Ollama double, no worker yet; `DATA_DIR` holds a synthetic `GOOG.csv`.
pub async fn stack_without_workers() -> Stack {
    stack_without_workers_with(|_| {}).await
}

pub async fn stack_without_workers_with(adjust: impl FnOnce(&mut ApiConfig)) -> Stack {
    shared::telemetry::init_for_tests();
    let (db, redis) = (TestDb::new().await, RedisNamespace::new());
    let (data, results) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(data.path().join("GOOG.csv"), testkit::data::synthetic_daily_csv(600, 7))
        .unwrap();
    let config = ApiConfig {
        common: common(&db, &redis),
        addr: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1024 * 1024,
        results_dir: results.path().to_owned(),
        data: api::config::DataFiles::at(data.path()),
        queue_max_backlog: 2000,
        http: api::server::HttpLimits::default(),
        streams: api::events::StreamLimits::default(),
        auth: api::config::AuthConfig::from_env(&shared::config::Env::default()).unwrap(),
        cors_origins: Vec::new(),
        metrics_addr: None,
        ollama_url: None,
    };
    let mut config = config;
    adjust(&mut config);
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let api_state = app.state();
    tokio::spawn(app.run_until_stopped());
    let unlimited = serde_json::json!({
        "submissions_per_minute": null, "max_active_jobs": null, "training_flops_per_day": null,
    });
    let token =
        api::auth::store::issue(&api_state.pool, "tester", "admin", unlimited).await.unwrap();
    Stack {
        base,
        client: testkit::bearer_client(&token),
        ollama: OllamaDouble::start().await,
        data,
        results,
        api_state,
        workers: Vec::new(),
        worker_health: Vec::new(),
        shutdown,
        redis,
        db,
    }
}

pub async fn stack() -> Stack {
    let mut stack = stack_without_workers().await;
    stack.start_worker("w1").await;
    stack
}

impl Stack {
    pub async fn start_worker(&mut self, name: &str) -> Arc<Runtime> {
        self.start_worker_with(name, |_| {}).await
    }

    pub async fn start_worker_with(
        &mut self,
        name: &str,
        adjust: impl FnOnce(&mut WorkerConfig),
    ) -> Arc<Runtime> {
        let mut config = worker_config(self, name);
        adjust(&mut config);
        let stop = CancellationToken::new();
        let app = WorkerApp::build(config, stop.clone()).await.unwrap();
        self.worker_health.push(app.health_addr());
        let rt = app.runtime();
        let handle = tokio::spawn(app.run());
        self.workers.push((rt.clone(), stop, handle));
        rt
    }

    pub async fn submit(&self, body: &Value) -> Value {
        let r = self.client.post(format!("{}/jobs", self.base)).json(body).send().await.unwrap();
        assert_eq!(r.status(), 202, "submitting {body}");
        r.json().await.unwrap()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.client
            .get(format!("{}/jobs/{id}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls until the job is final; returns it and every (status, stage) seen on the way.
    pub async fn wait_final(&self, id: &str, limit: Duration) -> (Value, Vec<(String, String)>) {
        let deadline = tokio::time::Instant::now() + limit;
        let mut seen: Vec<(String, String)> = Vec::new();
        loop {
            let job = self.job(id).await;
            let step = (
                job["status"].as_str().unwrap().to_owned(),
                job["progress"]["stage"].as_str().unwrap_or("").to_owned(),
            );
            if seen.last() != Some(&step) {
                seen.push(step);
            }
            if ["succeeded", "failed", "cancelled"].contains(&job["status"].as_str().unwrap()) {
                return (job, seen);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} not final after {limit:?}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn wait_status(&self, id: &str, status: &str, limit: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let job = self.job(id).await;
            if job["status"] == status {
                return job;
            }
            assert!(tokio::time::Instant::now() < deadline, "job {id} never {status}: {job}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn result_dir(&self, id: &str) -> PathBuf {
        self.results.path().join(id)
    }
}

pub fn market(symbol: &str, date: &str) -> Value {
    serde_json::json!({"kind": "analysis", "input": {"task": "market", "symbol": symbol, "date": date}})
}

pub fn journal(text: &str) -> Value {
    serde_json::json!({"kind": "analysis", "input": {"task": "journal", "text": text, "context": "gold scalping challenge"}})
}
