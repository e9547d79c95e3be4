//! chromedriver as a child process and one headless Chromium session on it, with the few
//! helpers the scenarios need (polling waits, text, attributes, full-page screenshots).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use base64::Engine;
use fantoccini::{
    Client, ClientBuilder, Locator, elements::Element, wd::WebDriverCompatibleCommand,
};
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Viewport heights per screenshot width: a laptop and a phone (iPhone 12-15).
const HEIGHTS: [(u32, u32); 2] = [(1280, 900), (390, 844)];

/// The viewport height that goes with a screenshot width.
pub fn height_for(width: u32) -> u32 {
    HEIGHTS.iter().find(|(w, _)| *w == width).map_or(900, |(_, h)| *h)
}

/// The chromedriver process; killed when dropped, so a failed run leaves none behind.
pub struct Chromedriver {
    child: Child,
    pub url: String,
}

impl Chromedriver {
    pub async fn start(log: &Path) -> anyhow::Result<Self> {
        let port = testkit::procs::servers::free_port()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start {CHROMEDRIVER}"))?;
        let driver = Self { child, url: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{}/status", driver.url)).send().await;
            if let Ok(r) = ready
                && let Ok(body) = r.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer /status within 20 s (log: {})", log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session; `base` is the origin that `goto` paths are relative to.
pub struct Browser {
    pub client: Client,
    pub base: String,
    shots: PathBuf,
}

impl Browser {
    pub async fn open(driver: &Chromedriver, shots: PathBuf) -> anyhow::Result<Self> {
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1280,900"],
            },
            // The console (JS errors, CSP violations) through chromedriver's log endpoint.
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .context("opening a Chromium session")?;
        std::fs::create_dir_all(&shots)?;
        Ok(Self { client, base: String::new(), shots })
    }

    pub async fn goto(&self, path: &str) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base);
        self.client.goto(&url).await.with_context(|| format!("loading {url}"))
    }

    /// The path (and query) of the page shown now.
    pub async fn path(&self) -> anyhow::Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Polls for an element matching `css` (the pages update themselves, so no single load
    /// event says "ready").
    pub async fn wait_for(&self, css: &str, limit: Duration) -> anyhow::Result<Element> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                return Ok(el);
            }
            if Instant::now() > deadline {
                let path = self.path().await.unwrap_or_default();
                bail!("no {css} on {path} within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls the JS expression `predicate` until it is truthy.
    pub async fn wait_until(&self, predicate: &str, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let script = format!("return !!({predicate});");
        loop {
            if self.client.execute(&script, vec![]).await.ok() == Some(Value::Bool(true)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let path = self.path().await.unwrap_or_default();
                bail!("`{predicate}` not true on {path} within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `css` has non-blank text (an error slot filled in); returns it trimmed.
    pub async fn wait_text(&self, css: &str, limit: Duration) -> anyhow::Result<String> {
        let quoted = Value::from(css).to_string();
        let filled = format!("(document.querySelector({quoted})?.textContent || '').trim() !== ''");
        self.wait_until(&filled, limit).await?;
        Ok(self.text(css).await?.trim().to_owned())
    }

    /// Runs `body` (a function body: use `return`) in the page.
    pub async fn eval(&self, body: &str) -> anyhow::Result<Value> {
        let short: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let short: String = short.chars().take(80).collect();
        self.client.execute(body, vec![]).await.with_context(|| format!("running `{short}`"))
    }

    /// The element's textContent (hidden or collapsed parts count too).
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.read(css, "textContent", true).await?.unwrap_or_default())
    }

    pub async fn attr(&self, css: &str, name: &str) -> anyhow::Result<Option<String>> {
        self.read(css, name, false).await
    }

    /// A property or attribute, found again when a live update replaced the element between
    /// finding and reading it.
    async fn read(&self, css: &str, name: &str, prop: bool) -> anyhow::Result<Option<String>> {
        let mut tries = 0;
        loop {
            let el =
                self.client.find(Locator::Css(css)).await.with_context(|| format!("no {css}"))?;
            let value = if prop { el.prop(name).await } else { el.attr(name).await };
            match value {
                Err(e) if tries < 5 && e.to_string().contains("stale element") => tries += 1,
                other => return other.with_context(|| format!("reading {name} of {css}")),
            }
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Clicks `css`, finding it again while a live update replaces it (stale element) or
    /// something covers it, for up to 10 s.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let el = self.wait_for(css, Duration::from_secs(10)).await?;
            match el.click().await {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(e).with_context(|| format!("clicking {css}"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Clears the field `css` and types `value` into it.
    pub async fn fill(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let el = self.wait_for(css, Duration::from_secs(10)).await?;
        el.clear().await?;
        el.send_keys(value).await.with_context(|| format!("typing into {css}"))
    }

    /// Saves a full-page PNG at `width` (1280 or 390) as `<shots>/<name>-<width>.png`; the
    /// viewport stays at that size afterwards.
    pub async fn screenshot(&self, name: &str, width: u32) -> anyhow::Result<PathBuf> {
        let height = height_for(width);
        self.resize(width, height).await?;
        tokio::time::sleep(Duration::from_millis(300)).await; // relayout, charts redraw
        let full = self.eval("return document.documentElement.scrollHeight").await?;
        let full = full.as_u64().unwrap_or(height as u64).max(height as u64);
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": width, "height": full, "scale": 1}}),
            )
            .await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().context("no data in the screenshot")?)?;
        let path = self.shots.join(format!("{name}-{width}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Emulates a viewport of this size, as DevTools' device mode does: exact widths whatever
    /// the window allows, and phone-style layout (meta viewport) below 600 px.
    pub async fn resize(&self, width: u32, height: u32) -> anyhow::Result<()> {
        let mobile = width < 600;
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await?;
        Ok(())
    }

    /// One Chrome DevTools Protocol command, through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        let body = json!({"cmd": cmd, "params": params});
        let answer = self.client.issue_cmd(Raw("goog/cdp/execute", Some(body))).await;
        answer.with_context(|| format!("CDP {cmd}"))
    }

    /// Console entries since the last call: `(level, message)`.
    pub async fn console(&self) -> anyhow::Result<Vec<(String, String)>> {
        let entries =
            self.client.issue_cmd(Raw("se/log", Some(json!({"type": "browser"})))).await?;
        Ok(entries
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let level = e["level"].as_str().unwrap_or_default().to_owned();
                (level, e["message"].as_str().unwrap_or_default().to_owned())
            })
            .collect())
    }

    /// Console entries that mean the page is broken: uncaught errors and CSP refusals.
    pub async fn page_errors(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .console()
            .await?
            .into_iter()
            .filter(|(level, msg)| {
                level == "SEVERE"
                    && (msg.contains("Uncaught")
                        || msg.contains("Content Security Policy")
                        || msg.contains("Refused to"))
            })
            .map(|(_, msg)| msg)
            .collect())
    }
}

/// A session command fantoccini has no method for: `POST /session/{id}/<path>`.
#[derive(Debug)]
struct Raw(&'static str, Option<Value>);

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or_default(), self.0))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, self.1.as_ref().map(Value::to_string))
    }
}
