//! One scenario's stack, as `docker compose up --scale worker=N` runs it but as processes on
//! loopback: the real `api` and `worker` binaries, private Postgres and Redis, and the Ollama
//! double (in this process, so a scenario steers its faults directly).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::ollama_double::{DoubleControl, OllamaDouble};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::servers::{Postgres, Redis, free_port};

/// Where the binaries are and the shared servers; one per run.
pub struct Env {
    pub bins: PathBuf,
    pub scratch: tempfile::TempDir,
    pub pg: Postgres,
    pub redis: Redis,
}

impl Env {
    pub async fn start(bins: PathBuf) -> anyhow::Result<Self> {
        for bin in ["api", "worker"] {
            if !bins.join(bin).is_file() {
                bail!(
                    "{} not found: build it first (cargo build -p api -p worker)",
                    bins.join(bin).display()
                );
            }
        }
        let scratch = tempfile::Builder::new().prefix("tradeforge-chaos.").tempdir()?;
        let pg = Postgres::start(scratch.path()).await?;
        let redis = Redis::start(scratch.path()).await?;
        Ok(Self { bins, scratch, pg, redis })
    }
}

/// A running worker process and what identifies it in Postgres and its log.
pub struct WorkerProc {
    pub name: String,
    pub health: u16,
    child: Child,
}

impl WorkerProc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (a crash loop would show as an exit).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

pub struct Stack<'e> {
    pub env: &'e mut Env,
    pub name: &'static str,
    pub dir: PathBuf,
    pub pool: PgPool,
    pub db_url: String,
    pub prefix: String,
    pub double: OllamaDouble,
    pub api_url: String,
    api: Option<Child>,
    api_port: u16,
    pub workers: Vec<WorkerProc>,
    /// Settings every worker of this scenario gets on top of the defaults.
    pub worker_env: HashMap<String, String>,
    /// Settings the api gets on top of the defaults.
    api_env: HashMap<String, String>,
    starts: usize,
    /// Sends the scenario's admin key (made when the api first starts).
    http: reqwest::Client,
    /// That key (`api keys create`, no quotas), for clients a scenario builds itself.
    pub token: String,
}

impl<'e> Stack<'e> {
    /// A fresh database, Redis prefix, results directory and double; the api started.
    pub async fn new(env: &'e mut Env, name: &'static str) -> anyhow::Result<Self> {
        Self::with_api_env(env, name, HashMap::new()).await
    }

    /// [`Stack::new`], the api started with these settings on top of the defaults.
    pub async fn with_api_env(
        env: &'e mut Env,
        name: &'static str,
        api_env: HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let db = format!("chaos_{}", name.replace('-', "_"));
        let admin = PgPool::connect(&env.pg.url("postgres")).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&admin).await?;
        sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await?;
        admin.close().await;
        let db_url = env.pg.url(&db);
        let dir = env.scratch.path().join(name);
        for sub in ["results", "data", "logs"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        std::fs::write(dir.join("data/SYNTH.csv"), crate::data::synthetic_daily_csv(420, 7))?;
        let double = OllamaDouble::start().await;
        double.control().set_recording(false);
        let mut stack = Self {
            env,
            name,
            dir,
            pool: PgPool::connect_lazy(&db_url)?,
            db_url,
            prefix: format!("chaos-{name}-{:04x}", rand::random::<u16>()),
            double,
            api_url: String::new(),
            api: None,
            api_port: free_port()?,
            workers: Vec::new(),
            worker_env: HashMap::new(),
            api_env,
            starts: 0,
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
            token: String::new(),
        };
        stack.api_url = format!("http://127.0.0.1:{}", stack.api_port);
        stack.start_api().await?;
        Ok(stack)
    }

    /// The api process, to read its memory (`/proc/<pid>/status`).
    pub fn api_pid(&self) -> Option<u32> {
        self.api.as_ref().map(Child::id)
    }

    pub fn ollama(&self) -> DoubleControl {
        self.double.control()
    }

    fn base_command(&self, bin: &str, log: &Path) -> anyhow::Result<Command> {
        let mut cmd = Command::new(self.env.bins.join(bin));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.db_url)
            .env("REDIS_URL", self.env.redis.url())
            .env("QUEUE_PREFIX", &self.prefix)
            .env("RESULTS_DIR", self.dir.join("results"))
            .env("DATA_DIR", self.dir.join("data"))
            // Offline: no test reaches the internet (a run may set providers of its own).
            .env("MARKET_DATA_PROVIDERS", "csv")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log)?)
            .stderr(Stdio::null());
        Ok(cmd)
    }

    pub async fn start_api(&mut self) -> anyhow::Result<()> {
        let log = self.dir.join("logs/api.log");
        let mut cmd = self.base_command("api", &log)?;
        cmd.env("API_ADDR", format!("127.0.0.1:{}", self.api_port)).envs(&self.api_env);
        self.api = Some(cmd.spawn().context("could not start api")?);
        self.wait_http(&format!("{}/health", self.api_url), Duration::from_secs(30)).await?;
        if self.token.is_empty() {
            self.token = self.issue_key("chaos-admin", "admin")?;
            self.http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .default_headers(crate::bearer(&self.token))
                .build()?;
        }
        self.wait_http(&format!("{}/ready", self.api_url), Duration::from_secs(30)).await
    }

    /// A key of `owner` with these scopes and no quotas, made as an operator makes one.
    pub fn issue_key(&self, owner: &str, scopes: &str) -> anyhow::Result<String> {
        let out = Command::new(self.env.bins.join("api"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.db_url)
            .args(["keys", "create", "--name", owner, "--scopes", scopes])
            .args(["--submissions-per-minute", "unlimited", "--max-active-jobs", "unlimited"])
            .args(["--training-flops-per-day", "unlimited"])
            .output()
            .context("running api keys create")?;
        if !out.status.success() {
            bail!("api keys create failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    /// A client sending the scenario's admin key, built as the caller needs it.
    pub fn http_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().default_headers(crate::bearer(&self.token))
    }

    /// Starts one more worker; its name is `<scenario>-w<n>` (unique per start, like a new
    /// container). Returns its index in `workers`.
    pub async fn start_worker(&mut self) -> anyhow::Result<usize> {
        self.starts += 1;
        let name = format!("{}-w{}", self.name, self.starts);
        let health = free_port()?;
        let log = self.dir.join(format!("logs/{name}.log"));
        let mut cmd = self.base_command("worker", &log)?;
        cmd.env("WORKER_NAME", &name)
            .env("WORKER_HEALTH_ADDR", format!("127.0.0.1:{health}"))
            .env("WORKER_QUEUES", "analysis")
            .env("OLLAMA_URL", self.double.url())
            .env("OLLAMA_PULL", "false")
            .env("RETRY_BASE_MS", "200")
            .env("RETRY_MAX_S", "2")
            .envs(&self.worker_env);
        let child = cmd.spawn().context("could not start worker")?;
        self.workers.push(WorkerProc { name, health, child });
        self.wait_http(&format!("http://127.0.0.1:{health}/health"), Duration::from_secs(30))
            .await?;
        Ok(self.workers.len() - 1)
    }

    pub async fn start_workers(&mut self, n: usize) -> anyhow::Result<()> {
        for _ in 0..n {
            self.start_worker().await?;
        }
        Ok(())
    }

    /// SIGKILL: no shutdown code runs, as with an OOM kill or a lost host.
    pub fn kill_worker(&mut self, index: usize) -> anyhow::Result<String> {
        let w = &mut self.workers[index];
        w.child.kill()?;
        w.child.wait()?;
        Ok(w.name.clone())
    }

    /// SIGTERM (what `docker stop` sends first); returns the time the process took to exit.
    pub async fn terminate_worker(&mut self, index: usize) -> anyhow::Result<Duration> {
        let w = &mut self.workers[index];
        let started = Instant::now();
        signal(w.pid(), "TERM")?;
        loop {
            if w.child.try_wait()?.is_some() {
                return Ok(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{} did not exit within 60 s of SIGTERM", w.name);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn workers_alive(&mut self) -> usize {
        self.workers.iter_mut().map(WorkerProc::alive).filter(|alive| *alive).count()
    }

    async fn wait_http(&self, url: &str, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(r) = self.http.get(url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{url} not ready within {limit:?} (see the logs in {})", self.dir.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST /jobs`; the answer's status and `{content_type, body}`.
    pub async fn post(&self, body: &Value) -> anyhow::Result<(u16, Value)> {
        self.client().post(body).await
    }

    /// A handle on the API that a spawned task can own.
    pub fn client(&self) -> ApiClient {
        ApiClient { http: self.http.clone(), url: self.api_url.clone() }
    }

    /// Submits and insists on 202; returns the job id.
    pub async fn submit(&self, body: &Value) -> anyhow::Result<Uuid> {
        let (status, answer) = self.post(body).await?;
        if status != 202 {
            bail!("POST /jobs answered {status}: {}", answer["body"]);
        }
        answer["body"]["id"].as_str().context("no id in the 202")?.parse().context("id")
    }

    /// Submits `n` jobs from `make(i)`, 32 at a time.
    pub async fn submit_many(
        &self,
        n: usize,
        make: impl Fn(usize) -> Value,
    ) -> anyhow::Result<Vec<Uuid>> {
        use futures::{StreamExt, TryStreamExt};
        let bodies: Vec<Value> = (0..n).map(make).collect();
        futures::stream::iter(bodies.iter().map(|b| self.submit(b)))
            .buffered(32)
            .try_collect()
            .await
    }

    pub async fn cancel(&self, id: Uuid) -> anyhow::Result<u16> {
        let r = self.http.post(format!("{}/jobs/{id}/cancel", self.api_url)).send().await?;
        Ok(r.status().as_u16())
    }

    /// How many of `ids` are in a final state (0 while Postgres is unreachable).
    pub async fn final_count(&self, ids: &[Uuid]) -> usize {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM jobs WHERE id = ANY($1) AND status IN ('succeeded','failed','cancelled')",
        )
        .bind(ids)
        .fetch_one(&self.pool)
        .await
        .map_or(0, |n| n as usize)
    }

    /// Waits until every job in `ids` is final; `false` when `limit` passed first.
    pub async fn wait_final(&self, ids: &[Uuid], limit: Duration) -> anyhow::Result<bool> {
        let deadline = Instant::now() + limit;
        loop {
            if self.final_count(ids).await == ids.len() {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A counter from a worker's `/metrics` (summed over its label sets); 0 when absent.
    pub async fn worker_metric(&self, index: usize, name: &str) -> f64 {
        let url = format!("http://127.0.0.1:{}/metrics", self.workers[index].health);
        let Ok(text) = self.http.get(url).send().await.and_then(|r| r.error_for_status()) else {
            return 0.0;
        };
        let text = text.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
            + 0.0 // an empty sum is -0.0
    }

    pub async fn redis_keys_of_scenario(&self) -> anyhow::Result<usize> {
        let mut conn =
            redis::Client::open(self.env.redis.url())?.get_multiplexed_async_connection().await?;
        let keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}:*", self.prefix)).query_async(&mut conn).await?;
        Ok(keys.len())
    }

    /// Stops every process of the scenario (the servers stay up for the next one).
    pub async fn stop(mut self) {
        for w in &mut self.workers {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
        if let Some(mut api) = self.api.take() {
            let _ = api.kill();
            let _ = api.wait();
        }
        self.pool.close().await;
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        for w in &mut self.workers {
            let _ = w.child.kill();
        }
        if let Some(api) = &mut self.api {
            let _ = api.kill();
        }
    }
}

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    url: String,
}

impl ApiClient {
    pub async fn post(&self, body: &Value) -> anyhow::Result<(u16, Value)> {
        let r = self.http.post(format!("{}/jobs", self.url)).json(body).send().await?;
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        Ok((status, json!({"content_type": content_type, "body": body})))
    }

    pub async fn ready_status(&self) -> u16 {
        match self.http.get(format!("{}/ready", self.url)).send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }
}

fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    let status = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status()?;
    if !status.success() {
        bail!("kill -{name} {pid} failed");
    }
    Ok(())
}
