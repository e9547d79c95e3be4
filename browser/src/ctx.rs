//! What every scenario works with: a running stack (api, one worker, the Ollama double), a
//! browser on it, a user's key, and the API as that user sees it (to compare the pages with).

use std::{collections::HashMap, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use testkit::procs::{Env, Stack};
use uuid::Uuid;

use crate::driver::{Browser, Chromedriver};

/// The user the browser logs in as; jobs submitted through the API use the same key, so the
/// dashboard shows them.
pub const OWNER: &str = "trader";
pub const LIMIT: Duration = Duration::from_secs(120);
pub const UI: Duration = Duration::from_secs(15);

pub struct Ctx<'e> {
    pub stack: Stack<'e>,
    pub browser: Browser,
    pub key: String,
    pub api: reqwest::Client,
    /// Jobs made once and reused by later scenarios (each makes its own when run alone).
    trained: Option<Uuid>,
    market: Option<Uuid>,
}

impl<'e> Ctx<'e> {
    /// A stack named `name` with these api settings, one worker for both queues, and a
    /// browser session whose relative paths go to the api.
    pub async fn start(
        env: &'e mut Env,
        driver: &Chromedriver,
        shots: PathBuf,
        name: &'static str,
        api_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let vars: HashMap<String, String> =
            api_env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut stack = Stack::with_api_env(env, name, vars).await?;
        for (k, v) in [
            ("WORKER_QUEUES", "analysis,training"),
            // The cancelled long run and a short one may overlap.
            ("TRAINING_CONCURRENCY", "2"),
            // A long run a failed cancel left behind stops by itself.
            ("TRAINING_TIMEOUT_S", "300"),
        ] {
            stack.worker_env.insert(k.into(), v.into());
        }
        stack.start_worker().await?;
        let key = stack.issue_key(OWNER, "submit,read")?;
        let api = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .default_headers(testkit::bearer(&key))
            .build()?;
        let mut browser = Browser::open(driver, shots).await?;
        browser.base = stack.api_url.clone();
        Ok(Self { stack, browser, key, api, trained: None, market: None })
    }

    pub async fn stop(self) {
        let _ = self.browser.client.close().await;
        self.stack.stop().await;
    }

    /// Waits for `<main id="page" data-page="{page}">`.
    pub async fn on_page(&self, page: &str) -> anyhow::Result<()> {
        self.browser.wait_for(&format!("main#page[data-page=\"{page}\"]"), UI).await.map(drop)
    }

    /// Logs in through the form when `/` shows the login page.
    pub async fn ensure_login(&self) -> anyhow::Result<()> {
        self.browser.goto("/").await?;
        self.browser.wait_for("main#page[data-page]", UI).await?;
        if self.browser.exists("main#page[data-page=\"login\"]").await {
            self.login(&self.key).await?;
            self.on_page("jobs").await?;
        }
        Ok(())
    }

    /// Fills and sends `form#login` on `/ui/login` (the caller checks what follows).
    pub async fn login(&self, key: &str) -> anyhow::Result<()> {
        self.browser.goto("/ui/login").await?;
        self.on_page("login").await?;
        self.browser.fill("form#login input[name=key]", key).await?;
        self.browser.click("form#login button[type=submit]").await
    }

    /// Sends the form `form` with its submit button; accepts a confirm() if one opens.
    pub async fn send_form(&self, form: &str) -> anyhow::Result<()> {
        self.browser.click(&format!("{form} button[type=submit]")).await?;
        let _ = self.browser.client.accept_alert().await;
        Ok(())
    }

    /// `POST /jobs` as the user: status and body.
    pub async fn post_job(&self, body: &Value) -> anyhow::Result<(u16, Value)> {
        let r = self.api.post(format!("{}/jobs", self.stack.api_url)).json(body).send().await?;
        Ok((r.status().as_u16(), r.json().await.unwrap_or(Value::Null)))
    }

    pub async fn submit(&self, body: &Value) -> anyhow::Result<Uuid> {
        let (status, answer) = self.post_job(body).await?;
        if status != 202 {
            bail!("POST /jobs answered {status}: {answer}");
        }
        answer["id"].as_str().context("no id in the 202")?.parse().context("job id")
    }

    /// `GET /jobs/{id}` as the user.
    pub async fn job(&self, id: Uuid) -> anyhow::Result<Value> {
        let r = self.api.get(format!("{}/jobs/{id}", self.stack.api_url)).send().await?;
        if !r.status().is_success() {
            bail!("GET /jobs/{id} answered {}", r.status());
        }
        Ok(r.json().await?)
    }

    /// Polls the API until the job's status is one of `wanted`; fails on any other final one.
    pub async fn wait_status(
        &self,
        id: Uuid,
        wanted: &[&str],
        limit: Duration,
    ) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let job = self.job(id).await?;
            let status = job["status"].as_str().unwrap_or_default();
            if wanted.contains(&status) {
                return Ok(job);
            }
            if ["succeeded", "failed", "cancelled"].contains(&status) {
                bail!("job {id} ended {status} (wanted {wanted:?}): {}", job["error"]);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("job {id} still {status} after {limit:?} (wanted {wanted:?})");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A short training run that succeeded (made on first use).
    pub async fn trained_job(&mut self) -> anyhow::Result<Uuid> {
        if let Some(id) = self.trained {
            return Ok(id);
        }
        let id = self.submit(&training(600, 60)).await?;
        self.wait_status(id, &["succeeded"], LIMIT).await?;
        self.trained = Some(id);
        Ok(id)
    }

    /// A market analysis of the stack's synthetic `SYNTH.csv` that succeeded.
    pub async fn market_job(&mut self) -> anyhow::Result<Uuid> {
        if let Some(id) = self.market {
            return Ok(id);
        }
        let id = self.submit(&market("SYNTH", None)).await?;
        self.wait_status(id, &["succeeded"], LIMIT).await?;
        self.market = Some(id);
        Ok(id)
    }
}

pub fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

/// A market analysis; `csv` names a file under DATA_DIR, else the `csv` provider finds
/// `<SYMBOL>.csv` there.
pub fn market(symbol: &str, csv: Option<&str>) -> Value {
    let mut body = json!({"kind": "analysis",
        "input": {"task": "market", "symbol": symbol, "date": "2010-06-01"}});
    if let Some(path) = csv {
        body["input"]["data"] = json!({"source": "csv", "path": path});
    }
    body
}

/// A training job on `bars` seeded synthetic daily bars sent inline; a small network, so
/// `steps` decides how long it runs.
pub fn training(bars: usize, steps: u32) -> Value {
    json!({"kind": "training", "input": {"symbol": "SYNTH", "model": "nhits", "horizon": 5,
        "input_size": 20, "max_steps": steps, "mlp_width": 32, "windows_batch_size": 64,
        "seed": 1, "data": {"source": "inline", "bars": synthetic_bars(bars)}}})
}

/// testkit's seeded random walk (the CSV the stack's DATA_DIR holds) as inline bars.
fn synthetic_bars(n: usize) -> Vec<Value> {
    testkit::data::synthetic_daily_csv(n, 11)
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap_or_default();
            json!({"time": f[0], "open": num(1), "high": num(2), "low": num(3), "close": num(4),
                "volume": num(5)})
        })
        .collect()
}
