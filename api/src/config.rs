//! API settings (see `shared::config::settings` for the variables and their defaults).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use axum::http::HeaderValue;
use shared::config::{CommonConfig, ConfigError, Env, Setting, settings::*};

use crate::{auth::AuthMode, events::StreamLimits, quota::Quotas, server::HttpLimits};

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub common: CommonConfig,
    pub addr: SocketAddr,
    pub max_body_bytes: usize,
    pub results_dir: PathBuf,
    /// The market-data files `GET /forecast/{symbol}` reads again for a model trained on a CSV.
    pub data: DataFiles,
    pub queue_max_backlog: u64,
    pub http: HttpLimits,
    pub streams: StreamLimits,
    pub auth: AuthConfig,
    /// Origins allowed cross-origin requests; empty: none.
    pub cors_origins: Vec<HeaderValue>,
    /// A separate, unauthenticated address for `/metrics`.
    pub metrics_addr: Option<SocketAddr>,
    /// The Ollama server `GET /overview` probes (`OLLAMA_URL`); `None`: not configured.
    pub ollama_url: Option<reqwest::Url>,
}

/// `DATA_DIR` and the worker's read limits (`MAX_DATA_BYTES`, `MAX_BARS`): any file a model
/// was trained on can be read again, and nothing larger.
#[derive(Debug, Clone)]
pub struct DataFiles {
    pub dir: PathBuf,
    pub max_bytes: u64,
    pub max_bars: usize,
}

impl DataFiles {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            dir: env.parse(&DATA_DIR)?,
            max_bytes: env.parse(&MAX_DATA_BYTES)?,
            max_bars: env.parse(&MAX_BARS)?,
        })
    }

    /// `dir` with the default limits (tests, tools).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        let defaults = Self::from_env(&Env::default()).expect("the defaults are valid");
        Self { dir: dir.into(), ..defaults }
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: AuthMode,
    pub cache_ttl: Duration,
    pub docs_public: bool,
    /// Quotas of a key that overrides none.
    pub quotas: Quotas,
}

impl AuthConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let cache_s: f64 = env.parse(&AUTH_CACHE_S)?;
        // Plus the one refresh that still serves the old record: a revoked key is refused within 5 s.
        if !(0.0..=4.5).contains(&cache_s) {
            return Err(ConfigError::invalid(&AUTH_CACHE_S, &cache_s, "0 to 4.5 seconds"));
        }
        Ok(Self {
            mode: AuthMode::from_env(env)?,
            cache_ttl: Duration::from_secs_f64(cache_s),
            docs_public: env.flag(&DOCS_PUBLIC)?,
            quotas: Quotas::from_env(env)?,
        })
    }
}

impl ApiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            addr: env.parse(&API_ADDR)?,
            max_body_bytes: env.parse(&MAX_BODY_BYTES)?,
            results_dir: env.parse(&RESULTS_DIR)?,
            data: DataFiles::from_env(env)?,
            queue_max_backlog: env.parse(&QUEUE_MAX_BACKLOG)?,
            http: HttpLimits::from_env(env)?,
            streams: StreamLimits::from_env(env)?,
            auth: AuthConfig::from_env(env)?,
            cors_origins: cors_origins(env)?,
            metrics_addr: env.raw(&METRICS_ADDR).map(|_| env.parse(&METRICS_ADDR)).transpose()?,
            ollama_url: ollama_url(env)?,
        })
    }
}

/// The worker's `OLLAMA_URL`, without its default: the api reports on an Ollama only when
/// told where it is (compose tells it), never on a guessed `http://ollama:11434`.
const OLLAMA_URL_IF_SET: Setting = Setting { default: None, ..OLLAMA_URL };

fn ollama_url(env: &Env) -> Result<Option<reqwest::Url>, ConfigError> {
    let Some(raw) = env.raw(&OLLAMA_URL_IF_SET) else { return Ok(None) };
    let url = raw
        .parse::<reqwest::Url>()
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host() && u.query().is_none());
    // The value may hold a password: the error shows it masked.
    url.map(Some).ok_or_else(|| {
        ConfigError::invalid(
            &OLLAMA_URL,
            &shared::redact::redact_url(&raw),
            "an http(s) URL such as http://ollama:11434",
        )
    })
}

fn cors_origins(env: &Env) -> Result<Vec<HeaderValue>, ConfigError> {
    let Some(raw) = env.raw(&CORS_ORIGINS) else { return Ok(Vec::new()) };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && origin != "*";
            valid.then(|| HeaderValue::from_str(origin).ok()).flatten().ok_or_else(|| {
                ConfigError::invalid(
                    &CORS_ORIGINS,
                    &origin,
                    "origins like https://app.example.com (scheme and host, no path, no *)",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn ollama_url_is_optional_for_the_api_and_checked_when_given() {
        assert_eq!(ollama_url(&env(&[])).unwrap(), None, "the worker's default is not used");
        assert_eq!(ollama_url(&env(&[("OLLAMA_URL", "")])).unwrap(), None);
        let set = ollama_url(&env(&[("OLLAMA_URL", "http://ollama:11434")])).unwrap();
        assert_eq!(set.unwrap().as_str(), "http://ollama:11434/");
        let bad = ollama_url(&env(&[("OLLAMA_URL", "ftp://u:s3cret@host")])).unwrap_err();
        let text = bad.to_string();
        assert!(text.contains("OLLAMA_URL") && !text.contains("s3cret"), "{text}");
    }
}
