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
    DATABASE_PASSWORD_FILE = None, "a file holding the Postgres password (a Docker secret), put into DATABASE_URL";
    REDIS_URL = None, "redis connection URL";
    REDIS_PASSWORD_FILE = None, "a file holding the Redis password (a Docker secret), put into REDIS_URL";
    QUEUE_PREFIX = Some("tradeforge"), "prefix of every Redis key and queue name";
    MAX_ATTEMPTS = Some("3"), "executions of a job before it fails for good";
    LOG_FORMAT = Some("text"), "log output: text or json";
    RUST_LOG = Some("info"), "log filter (tracing EnvFilter syntax)";
    RESULTS_DIR = Some("/results"), "directory holding RESULTS_DIR/<job id>/ artifacts";
    DATA_DIR = Some("/data"), "directory of market data CSV files";
    MARKET_DATA_PROVIDERS = Some("csv,yahoo,binance,alphavantage"), "where bars come from, in order (the first that has the symbol wins): csv (DATA_DIR/<SYMBOL>.csv), yahoo, binance, alphavantage (only with a key); csv alone is offline";
    MARKET_DATA_MAX_AGE_S = Some("900"), "a cached series fetched less than this long ago is not asked for again";
    MARKET_DATA_TIMEOUT_S = Some("20"), "longest one request to a market-data provider may take";
    YAHOO_URL = Some("https://query2.finance.yahoo.com"), "Yahoo Finance chart API base URL";
    YAHOO_REQUESTS_PER_MINUTE = Some("30"), "requests to Yahoo per minute, all workers together";
    BINANCE_URL = Some("https://data-api.binance.vision"), "Binance public market data base URL";
    BINANCE_REQUESTS_PER_MINUTE = Some("300"), "requests to Binance per minute, all workers together (each costs 2 of its 6000 weight a minute)";
    ALPHAVANTAGE_URL = Some("https://www.alphavantage.co"), "Alpha Vantage base URL";
    ALPHAVANTAGE_API_KEY = None, "Alpha Vantage key (prefer ALPHAVANTAGE_API_KEY_FILE); without one the provider is skipped; never logged";
    ALPHAVANTAGE_API_KEY_FILE = None, "a file holding the Alpha Vantage key (a Docker secret)";
    ALPHAVANTAGE_REQUESTS_PER_MINUTE = Some("5"), "requests to Alpha Vantage per minute, all workers together (its free tier: 25 a day, about 1 a second)";
    QUEUE_MAX_BACKLOG = Some("2000"), "most jobs waiting in Redis per queue; the rest wait in Postgres";
    MAX_TRAINING_FLOPS = Some("2e14"), "compute one training job may ask for (6 x parameters x windows_batch_size x max_steps); larger requests get 422";
    // api
    API_ADDR = Some("0.0.0.0:8000"), "address the HTTP API listens on";
    MAX_BODY_BYTES = Some("1048576"), "largest accepted request body in bytes";
    HTTP_HEADER_TIMEOUT_S = Some("10"), "longest a client may take to send request headers, or stay idle between requests";
    HTTP_BODY_TIMEOUT_S = Some("20"), "longest a client may take to send a request body (408 past it)";
    HTTP_REQUEST_TIMEOUT_S = Some("30"), "longest the API works on a request before answering 503 (streams excepted)";
    HTTP_STALL_TIMEOUT_S = Some("60"), "a connection on which no byte moves either way for this long is closed";
    HTTP_MAX_CONNECTIONS = Some("4096"), "most open connections; past it a new one gets 503 at once";
    SSE_MAX_STREAMS = Some("1000"), "most open GET /jobs/{id}/events streams (503 past it)";
    SSE_MAX_STREAMS_PER_CLIENT = Some("20"), "most open event streams per client address (429 past it)";
    SSE_MAX_LIFETIME_S = Some("3600"), "an event stream is closed after this long (the client reconnects)";
    AUTH_MODE = Some("required"), "required: every route but /health needs an API key; disabled: anyone who reaches the API may do everything (a local single-user setup)";
    AUTH_CACHE_S = Some("2"), "how long a looked-up API key is reused before Postgres is asked again (a revoked key stops working within this plus 0.5 s; at most 4.5)";
    DOCS_PUBLIC = Some("false"), "serve /docs and /openapi.json without a key";
    CORS_ORIGINS = None, "comma-separated origins browsers may call the API from (unset: no cross-origin access)";
    METRICS_ADDR = None, "serve the api's /metrics without a key on this separate address, e.g. 127.0.0.1:9100 (unset: /metrics needs the admin scope)";
    QUOTA_SUBMISSIONS_PER_MINUTE = Some("120"), "default per key: job submissions per minute (a token bucket holding a minute's worth); 0 = unlimited";
    QUOTA_MAX_ACTIVE_JOBS = Some("200"), "default per key: its owner's jobs queued or running at once; 0 = unlimited";
    QUOTA_TRAINING_FLOPS_PER_DAY = Some("2e15"), "default per key: training compute its owner may submit in 24 h, as MAX_TRAINING_FLOPS counts it; 0 = unlimited";
    // worker
    WORKER_NAME = None, "worker name in logs and Redis (default: hostname + random suffix)";
    WORKER_QUEUES = Some("analysis,training"), "queues this worker consumes";
    ANALYSIS_CONCURRENCY = Some("2"), "analysis jobs run at once by one worker (match OLLAMA_NUM_PARALLEL)";
    TRAINING_CONCURRENCY = Some("1"), "training jobs run at once by one worker";
    WORKER_HEALTH_ADDR = Some("127.0.0.1:9000"), "address of the worker's /health and /metrics (the compose file opens it to the container network)";
    ANALYSIS_TIMEOUT_S = Some("600"), "longest an analysis attempt may run";
    TRAINING_TIMEOUT_S = Some("3600"), "longest a training attempt may run";
    JOB_LEASE_S = Some("20"), "a running job whose worker stops renewing this lease is re-queued";
    SHUTDOWN_TIMEOUT_S = Some("25"), "on SIGTERM, how long in-flight jobs may finish before they are re-queued";
    QUEUE_HEARTBEAT_S = Some("5"), "apalis heartbeat interval (also its orphan-check period)";
    QUEUE_MISSED_HEARTBEATS = Some("6"), "missed heartbeats before apalis re-enqueues a dead worker's messages";
    RETRY_BASE_MS = Some("1000"), "first retry delay; doubles per attempt, with jitter";
    RETRY_MAX_S = Some("60"), "longest retry delay";
    RETRY_TIMED_OUT_TRAINING = Some("false"), "retry a training attempt that ran past TRAINING_TIMEOUT_S (the same run would time out again)";
    MAX_DATA_BYTES = Some("67108864"), "largest market-data file a job may read, in bytes";
    MAX_BARS = Some("1000000"), "most bars a job may load";
    MAX_ARTIFACT_BYTES = Some("134217728"), "largest file a job may write to RESULTS_DIR (a larger model fails the job)";
    MAX_RESULT_BYTES = Some("524288"), "largest result a job may store in Postgres, as JSON";
    LLM_API = Some("ollama"), "the model server's API: ollama (native) or openai (an OpenAI-compatible /v1/chat/completions: vLLM, llama.cpp, LM Studio, hosted)";
    LLM_BASE_URL = None, "with LLM_API=openai: the server's base URL, ending in /v1 (e.g. http://vllm:8000/v1)";
    LLM_API_KEY = None, "with LLM_API=openai: bearer token (prefer LLM_API_KEY_FILE); never logged";
    LLM_API_KEY_FILE = None, "with LLM_API=openai: a file holding the bearer token (a Docker secret)";
    LLM_RESPONSE_FORMAT = Some("auto"), "with LLM_API=openai: json_schema (OpenAI, vLLM), json_object (llama.cpp's form, schema included) or auto (json_schema, then json_object if refused)";
    LLM_CONCURRENCY = None, "LLM calls one worker makes at once (match OLLAMA_NUM_PARALLEL); unset: ANALYSIS_CONCURRENCY";
    OLLAMA_URL = Some("http://ollama:11434"), "Ollama server";
    OLLAMA_MODEL = Some("qwen2.5:3b"), "default model for analysis jobs";
    OLLAMA_PULL = Some("true"), "pull a missing model at start-up";
    OLLAMA_TIMEOUT_S = Some("300"), "longest one LLM call may take, first byte to last token (the overall cap)";
    OLLAMA_FIRST_TOKEN_TIMEOUT_S = Some("120"), "longest wait for a reply's first token (the prompt is read first)";
    OLLAMA_LOAD_TIMEOUT_S = Some("300"), "longest wait for the first token of a model's first call since start-up (it may be loading)";
    OLLAMA_STALL_TIMEOUT_S = Some("30"), "longest silence between two tokens of a reply";
    OLLAMA_NUM_CTX = Some("8192"), "context window requested from Ollama";
    OLLAMA_SEED = Some("42"), "sampling seed, for reproducible answers";
    LLM_TOKEN_BUDGETS = None, "most tokens a reply may take, per step (analyst, bull, bear, decision, journal), e.g. analyst=800,journal=600; unset: each step's from its reply schema";
}
