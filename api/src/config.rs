//! API settings (see `shared::config::settings` for the variables and their defaults).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use axum::http::HeaderValue;
use shared::config::{CommonConfig, ConfigError, Env, settings::*};

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
        })
    }
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
