//! Every environment variable Tradeforge reads. `ALL` is the list that `.env.example` and the
//! compose files are checked against.

use super::Setting;

macro_rules! settings {
    ($($name:ident = $default:expr, $help:literal;)*) => {
        $(pub const $name: Setting = Setting { name: stringify!($name), default: $default, help: $help };)*
        /// Every setting, in declaration order.
        pub const ALL: &[Setting] = &[$($name),*];
    };
}

settings! {
    // Both binaries.
    DATABASE_URL = None, "postgres connection URL";
    DATABASE_MAX_CONNECTIONS = Some("16"), "size of the Postgres connection pool";
    REDIS_URL = None, "redis connection URL";
    QUEUE_PREFIX = Some("tradeforge"), "prefix of every Redis key and queue name";
    MAX_ATTEMPTS = Some("3"), "executions of a job before it fails for good";
    LOG_FORMAT = Some("text"), "log output: text or json";
    RUST_LOG = Some("info"), "log filter (tracing EnvFilter syntax)";
    RESULTS_DIR = Some("/results"), "directory holding RESULTS_DIR/<job id>/ artifacts";
    DATA_DIR = Some("/data"), "directory of market data CSV files";
    QUEUE_MAX_BACKLOG = Some("2000"), "most jobs waiting in Redis per queue; the rest wait in Postgres";
    // api
    API_ADDR = Some("0.0.0.0:8000"), "address the HTTP API listens on";
    MAX_BODY_BYTES = Some("1048576"), "largest accepted request body in bytes";
    // worker
    WORKER_NAME = None, "worker name in logs and Redis (default: hostname + random suffix)";
    WORKER_QUEUES = Some("analysis,training"), "queues this worker consumes";
    ANALYSIS_CONCURRENCY = Some("2"), "analysis jobs run at once by one worker (match OLLAMA_NUM_PARALLEL)";
    TRAINING_CONCURRENCY = Some("1"), "training jobs run at once by one worker";
    WORKER_HEALTH_ADDR = Some("0.0.0.0:9000"), "address of the worker's /health and /metrics";
    ANALYSIS_TIMEOUT_S = Some("600"), "longest an analysis attempt may run";
    TRAINING_TIMEOUT_S = Some("3600"), "longest a training attempt may run";
    JOB_LEASE_S = Some("20"), "a running job whose worker stops renewing this lease is re-queued";
    SHUTDOWN_TIMEOUT_S = Some("25"), "on SIGTERM, how long in-flight jobs may finish before they are re-queued";
    QUEUE_HEARTBEAT_S = Some("5"), "apalis heartbeat interval (also its orphan-check period)";
    QUEUE_MISSED_HEARTBEATS = Some("6"), "missed heartbeats before apalis re-enqueues a dead worker's messages";
    RETRY_BASE_MS = Some("1000"), "first retry delay; doubles per attempt, with jitter";
    RETRY_MAX_S = Some("60"), "longest retry delay";
    OLLAMA_URL = Some("http://ollama:11434"), "Ollama server";
    OLLAMA_MODEL = Some("qwen2.5:3b"), "default model for analysis jobs";
    OLLAMA_PULL = Some("true"), "pull a missing model at start-up";
    OLLAMA_TIMEOUT_S = Some("300"), "longest one Ollama call may take";
    OLLAMA_NUM_CTX = Some("8192"), "context window requested from Ollama";
    OLLAMA_SEED = Some("42"), "sampling seed, for reproducible answers";
}
