//! API settings (see `shared::config::settings` for the variables and their defaults).

use std::{net::SocketAddr, path::PathBuf};

use shared::config::{CommonConfig, ConfigError, Env, settings::*};

use crate::{events::StreamLimits, server::HttpLimits};

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub common: CommonConfig,
    pub addr: SocketAddr,
    pub max_body_bytes: usize,
    pub results_dir: PathBuf,
    pub queue_max_backlog: u64,
    pub http: HttpLimits,
    pub streams: StreamLimits,
}

impl ApiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            addr: env.parse(&API_ADDR)?,
            max_body_bytes: env.parse(&MAX_BODY_BYTES)?,
            results_dir: env.parse(&RESULTS_DIR)?,
            queue_max_backlog: env.parse(&QUEUE_MAX_BACKLOG)?,
            http: HttpLimits::from_env(env)?,
            streams: StreamLimits::from_env(env)?,
        })
    }
}
