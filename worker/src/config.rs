//! Worker settings (see `shared::config::settings` for the variables and their defaults).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use crate::llm::{StreamLimits, openai::ResponseFormat};
use shared::{
    config::{CommonConfig, ConfigError, Env, seconds, settings::*},
    job::JobKind,
};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub common: CommonConfig,
    /// Unique per process start (APALIS.md pitfall 8).
    pub name: String,
    pub queues: Vec<JobKind>,
    pub analysis_concurrency: usize,
    pub training_concurrency: usize,
    pub health_addr: SocketAddr,
    pub results_dir: PathBuf,
    pub data_dir: PathBuf,
    pub analysis_timeout: Duration,
    pub training_timeout: Duration,
    pub lease: Duration,
    pub shutdown_timeout: Duration,
    pub heartbeat: Duration,
    pub missed_heartbeats: usize,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub queue_max_backlog: u64,
    /// Whether a training attempt that hit its timeout runs again.
    pub retry_timed_out_training: bool,
    /// Largest market-data file a job may read.
    pub max_data_bytes: u64,
    /// Most bars a job may load.
    pub max_bars: usize,
    /// Largest file a job may write to `RESULTS_DIR`.
    pub max_artifact_bytes: u64,
    /// Largest result a job may store, as JSON.
    pub max_result_bytes: usize,
    pub llm: LlmConfig,
}

/// The model server and how calls to it are bounded.
#[derive(Clone)]
pub struct LlmConfig {
    pub api: LlmApi,
    /// `OLLAMA_URL`.
    pub url: String,
    /// `LLM_BASE_URL` (`LLM_API=openai`).
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub response_format: ResponseFormat,
    pub model: String,
    pub pull: bool,
    /// The overall cap on one call, and the bound on short requests.
    pub timeout: Duration,
    pub first_token_timeout: Duration,
    pub load_timeout: Duration,
    pub stall_timeout: Duration,
    pub num_ctx: u32,
    pub seed: i64,
    pub token_budgets: TokenBudgets,
    /// LLM calls this worker makes at once.
    pub concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmApi {
    Ollama,
    OpenAi,
}

impl LlmConfig {
    pub fn stream_limits(&self) -> StreamLimits {
        StreamLimits {
            first_token: self.first_token_timeout,
            load: self.load_timeout,
            stall: self.stall_timeout,
            total: self.timeout,
        }
    }
}

/// The LLM steps a pipeline runs, by the names `LLM_TOKEN_BUDGETS` uses.
pub const LLM_STEPS: &[&str] = &["analyst", "bull", "bear", "decision", "journal"];

/// Per-step overrides of a reply's token budget (`LLM_TOKEN_BUDGETS=analyst=800,journal=600`);
/// a step without one gets the budget its reply schema implies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenBudgets(Vec<(&'static str, u32)>);

impl TokenBudgets {
    pub fn get(&self, step: &str) -> Option<u32> {
        self.0.iter().find(|(name, _)| *name == step).map(|(_, tokens)| *tokens)
    }
}

impl std::str::FromStr for TokenBudgets {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let expected = || {
            format!("step=tokens pairs separated by commas, steps among {}", LLM_STEPS.join(", "))
        };
        let mut budgets = Vec::new();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (step, tokens) = pair.split_once('=').ok_or_else(expected)?;
            let step = LLM_STEPS.iter().find(|s| **s == step.trim()).ok_or_else(expected)?;
            let tokens: u32 = tokens.trim().parse().map_err(|_| expected())?;
            if tokens == 0 {
                return Err(format!("{step}: a budget of at least 1 token"));
            }
            budgets.retain(|(name, _)| name != step);
            budgets.push((*step, tokens));
        }
        Ok(Self(budgets))
    }
}

// Hand-written so that credentials in URLs and the API key never reach a log line.
impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("api", &self.api)
            .field("url", &shared::redact::redact_url(&self.url))
            .field("base_url", &self.base_url.as_deref().map(shared::redact::redact_url))
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("response_format", &self.response_format)
            .field("model", &self.model)
            .field("pull", &self.pull)
            .field("timeout", &self.timeout)
            .field("first_token_timeout", &self.first_token_timeout)
            .field("load_timeout", &self.load_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("concurrency", &self.concurrency)
            .field("num_ctx", &self.num_ctx)
            .field("seed", &self.seed)
            .field("token_budgets", &self.token_budgets)
            .finish()
    }
}

impl WorkerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queues = parse_queues(&env.parse::<String>(&WORKER_QUEUES)?)?;
        let config = Self {
            common: CommonConfig::from_env(env)?,
            name: env.raw(&WORKER_NAME).unwrap_or_else(default_name),
            queues,
            analysis_concurrency: positive(env, &ANALYSIS_CONCURRENCY)?,
            training_concurrency: positive(env, &TRAINING_CONCURRENCY)?,
            health_addr: env.parse(&WORKER_HEALTH_ADDR)?,
            results_dir: env.parse(&RESULTS_DIR)?,
            data_dir: env.parse(&DATA_DIR)?,
            analysis_timeout: seconds(env, &ANALYSIS_TIMEOUT_S)?,
            training_timeout: seconds(env, &TRAINING_TIMEOUT_S)?,
            lease: seconds(env, &JOB_LEASE_S)?,
            shutdown_timeout: seconds(env, &SHUTDOWN_TIMEOUT_S)?,
            heartbeat: seconds(env, &QUEUE_HEARTBEAT_S)?,
            missed_heartbeats: positive(env, &QUEUE_MISSED_HEARTBEATS)?,
            retry_base: Duration::from_millis(env.parse(&RETRY_BASE_MS)?),
            retry_max: seconds(env, &RETRY_MAX_S)?,
            queue_max_backlog: env.parse(&QUEUE_MAX_BACKLOG)?,
            retry_timed_out_training: env.flag(&RETRY_TIMED_OUT_TRAINING)?,
            max_data_bytes: env.parse(&MAX_DATA_BYTES)?,
            max_bars: positive(env, &MAX_BARS)?,
            max_artifact_bytes: env.parse(&MAX_ARTIFACT_BYTES)?,
            max_result_bytes: positive(env, &MAX_RESULT_BYTES)?,
            llm: LlmConfig {
                api: match env.parse::<String>(&LLM_API)?.to_ascii_lowercase().as_str() {
                    "ollama" => LlmApi::Ollama,
                    "openai" => LlmApi::OpenAi,
                    other => {
                        return Err(ConfigError::invalid(&LLM_API, &other, "ollama or openai"));
                    }
                },
                url: env.parse(&OLLAMA_URL)?,
                base_url: env.raw(&LLM_BASE_URL),
                api_key: shared::config::secret(env, &LLM_API_KEY, &LLM_API_KEY_FILE)?,
                response_format: env.parse(&LLM_RESPONSE_FORMAT)?,
                model: env.parse(&OLLAMA_MODEL)?,
                pull: env.flag(&OLLAMA_PULL)?,
                timeout: seconds(env, &OLLAMA_TIMEOUT_S)?,
                first_token_timeout: seconds(env, &OLLAMA_FIRST_TOKEN_TIMEOUT_S)?,
                load_timeout: seconds(env, &OLLAMA_LOAD_TIMEOUT_S)?,
                stall_timeout: seconds(env, &OLLAMA_STALL_TIMEOUT_S)?,
                num_ctx: env.parse(&OLLAMA_NUM_CTX)?,
                seed: env.parse(&OLLAMA_SEED)?,
                token_budgets: match env.raw(&LLM_TOKEN_BUDGETS) {
                    Some(raw) => raw.parse().map_err(|expected: String| {
                        ConfigError::invalid(&LLM_TOKEN_BUDGETS, &raw, &expected)
                    })?,
                    None => TokenBudgets::default(),
                },
                concurrency: match env.raw(&LLM_CONCURRENCY) {
                    Some(_) => positive(env, &LLM_CONCURRENCY)?,
                    None => positive(env, &ANALYSIS_CONCURRENCY)?,
                },
            },
        };
        if config.llm.api == LlmApi::OpenAi && config.llm.base_url.is_none() {
            return Err(ConfigError::invalid(
                &LLM_BASE_URL,
                &"",
                "the server's base URL, e.g. http://vllm:8000/v1 (LLM_API=openai needs it)",
            ));
        }
        if config.lease < config.heartbeat * 2 {
            return Err(ConfigError::invalid(
                &JOB_LEASE_S,
                &config.lease.as_secs(),
                "at least twice QUEUE_HEARTBEAT_S",
            ));
        }
        Ok(config)
    }

    pub fn concurrency(&self, kind: JobKind) -> usize {
        match kind {
            JobKind::Analysis => self.analysis_concurrency,
            JobKind::Training => self.training_concurrency,
        }
    }

    pub fn timeout(&self, kind: JobKind) -> Duration {
        match kind {
            JobKind::Analysis => self.analysis_timeout,
            JobKind::Training => self.training_timeout,
        }
    }
}

fn parse_queues(raw: &str) -> Result<Vec<JobKind>, ConfigError> {
    let mut queues = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let kind: JobKind = name.parse().map_err(|_| {
            ConfigError::invalid(
                &WORKER_QUEUES,
                &raw,
                "a comma-separated list of analysis, training",
            )
        })?;
        if !queues.contains(&kind) {
            queues.push(kind);
        }
    }
    if queues.is_empty() {
        return Err(ConfigError::invalid(
            &WORKER_QUEUES,
            &raw,
            "at least one of analysis, training",
        ));
    }
    Ok(queues)
}

fn positive(env: &Env, setting: &shared::config::Setting) -> Result<usize, ConfigError> {
    let n: usize = env.parse(setting)?;
    if n == 0 {
        return Err(ConfigError::invalid(setting, &n, "a number > 0"));
    }
    Ok(n)
}

/// Hostname (the container id under compose, so replicas differ) plus a random suffix, so that a
/// restarted process never reuses the name of its predecessor (APALIS.md pitfall 8).
fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &[(&str, &str)]) -> Env {
        let base = [("DATABASE_URL", "postgres://x"), ("REDIS_URL", "redis://x")];
        Env::from_pairs(base.iter().chain(extra).map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let c = WorkerConfig::from_env(&env(&[])).unwrap();
        assert_eq!(c.queues, vec![JobKind::Analysis, JobKind::Training]);
        assert_eq!((c.analysis_concurrency, c.training_concurrency), (2, 1));
        assert_eq!(c.health_addr.to_string(), "127.0.0.1:9000", "loopback outside containers");
        assert_eq!(c.llm.url, "http://ollama:11434");
        assert!(c.llm.pull);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let err =
            WorkerConfig::from_env(&env(&[("WORKER_QUEUES", "analysis,emails")])).unwrap_err();
        assert!(err.to_string().starts_with("WORKER_QUEUES="), "{err}");
        let err = WorkerConfig::from_env(&env(&[("ANALYSIS_CONCURRENCY", "0")])).unwrap_err();
        assert!(err.to_string().starts_with("ANALYSIS_CONCURRENCY="), "{err}");
        let err = WorkerConfig::from_env(&env(&[("OLLAMA_PULL", "maybe")])).unwrap_err();
        assert!(err.to_string().starts_with("OLLAMA_PULL="), "{err}");
    }

    #[test]
    fn token_budgets_override_named_steps_only() {
        let c =
            WorkerConfig::from_env(&env(&[("LLM_TOKEN_BUDGETS", " analyst=800, journal = 90 ")]))
                .unwrap();
        let budgets = &c.llm.token_budgets;
        assert_eq!((budgets.get("analyst"), budgets.get("journal")), (Some(800), Some(90)));
        assert_eq!(budgets.get("decision"), None);
        assert_eq!(
            WorkerConfig::from_env(&env(&[])).unwrap().llm.token_budgets.get("analyst"),
            None
        );
        for bad in ["analyst", "critic=100", "analyst=-1", "analyst=0", "analyst=lots"] {
            let err = WorkerConfig::from_env(&env(&[("LLM_TOKEN_BUDGETS", bad)])).unwrap_err();
            assert!(err.to_string().starts_with("LLM_TOKEN_BUDGETS="), "{bad}: {err}");
        }
    }

    #[test]
    fn each_process_gets_its_own_name() {
        assert_ne!(default_name(), default_name());
    }
}
