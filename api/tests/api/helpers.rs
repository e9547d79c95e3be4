use std::path::PathBuf;

use api::{ApiConfig, Application, config::AuthConfig, state::AppState};
use serde_json::Value;
use shared::config::{CommonConfig, Env};
use testkit::{RedisNamespace, TestDb};
use tokio_util::sync::CancellationToken;

#[allow(dead_code)] // kept alive for the test's duration
pub struct TestApi {
    pub base: String,
    pub client: reqwest::Client,
    /// The admin key `client` sends.
    pub token: String,
    pub state: AppState,
    pub results: tempfile::TempDir,
    /// `DATA_DIR`.
    pub data: tempfile::TempDir,
    pub redis: RedisNamespace,
    /// Where `METRICS_ADDR` is bound, when the test set one.
    pub metrics_addr: Option<std::net::SocketAddr>,
    shutdown: CancellationToken,
    pub db: TestDb,
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn config(db: &TestDb, redis: &RedisNamespace, results: PathBuf) -> ApiConfig {
    ApiConfig {
        common: CommonConfig {
            database_url: db.url.clone(),
            database_max_connections: 8,
            redis_url: redis.url.clone(),
            queue_prefix: redis.prefix.clone(),
            max_attempts: 3,
            max_training_flops: 2e14,
            market: shared::market::sources::MarketDataConfig::offline(),
        },
        addr: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1024 * 1024,
        // No data files unless a test brings its own (`spawn_api_with` does).
        data: api::config::DataFiles::at(results.join("no-data")),
        results_dir: results,
        queue_max_backlog: 2000,
        http: api::server::HttpLimits::default(),
        streams: api::events::StreamLimits::default(),
        auth: AuthConfig::from_env(&Env::default()).unwrap(),
        cors_origins: Vec::new(),
        metrics_addr: None,
        ollama_url: None,
    }
}

pub async fn spawn_api() -> TestApi {
    spawn_api_with(|_| {}).await
}

pub async fn spawn_api_with(adjust: impl FnOnce(&mut ApiConfig)) -> TestApi {
    shared::telemetry::init_for_tests();
    let (db, redis) = (TestDb::new().await, RedisNamespace::new());
    let (results, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut config = config(&db, &redis, results.path().to_owned());
    config.data = api::config::DataFiles::at(data.path());
    adjust(&mut config);
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.expect("API builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state();
    let metrics_addr = app.metrics_addr();
    tokio::spawn(app.run_until_stopped());
    // Most tests are about something else than access: an admin key without quotas.
    let token = api::auth::store::issue(
        &state.pool,
        "tester",
        "admin",
        serde_json::json!({
            "submissions_per_minute": null, "max_active_jobs": null, "training_flops_per_day": null,
        }),
    )
    .await
    .unwrap();
    let client = testkit::bearer_client(&token);
    TestApi { base, client, token, state, results, data, redis, metrics_addr, shutdown, db }
}

impl TestApi {
    /// A key of `owner` with these scopes (`"submit,read"`) and quota overrides.
    pub async fn key(&self, owner: &str, scopes: &str, quotas: Value) -> String {
        api::auth::store::issue(&self.state.pool, owner, scopes, quotas).await.unwrap()
    }

    /// A second api process on the same Postgres and Redis (as `--scale api=2` would run),
    /// stopped with the returned token. Its base URL first.
    pub async fn replica(&self) -> (String, CancellationToken) {
        let shutdown = CancellationToken::new();
        let app = Application::build(self.state.config.clone(), shutdown.clone()).await.unwrap();
        let base = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until_stopped());
        (base, shutdown)
    }

    /// Submits as `client` (another key than the admin's) and insists on 202.
    pub async fn submit_as(&self, client: &reqwest::Client, body: &Value) -> Value {
        let response = client.post(format!("{}/jobs", self.base)).json(body).send().await.unwrap();
        assert_eq!(response.status(), 202, "submitting {body}");
        response.json().await.unwrap()
    }

    /// A client sending this key.
    pub async fn client_for(&self, owner: &str, scopes: &str) -> reqwest::Client {
        testkit::bearer_client(&self.key(owner, scopes, serde_json::json!({})).await)
    }

    pub async fn post_job(&self, body: &Value) -> reqwest::Response {
        self.client.post(format!("{}/jobs", self.base)).json(body).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn submit(&self, body: &Value) -> Value {
        let response = self.post_job(body).await;
        assert_eq!(response.status(), 202, "submitting {body}");
        response.json().await.unwrap()
    }
}

/// Asserts a problem+json response with this status whose `field` and `detail` name `field`.
pub async fn assert_problem(response: reqwest::Response, status: u16, field: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status);
    assert_eq!(problem["field"], field, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains(field),
        "detail names the field: {problem}"
    );
    problem
}

pub fn market(symbol: &str, date: &str) -> Value {
    serde_json::json!({"kind": "analysis", "input": {"task": "market", "symbol": symbol, "date": date}})
}
