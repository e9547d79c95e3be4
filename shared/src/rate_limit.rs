//! So many per minute: a token bucket per name, in Redis, so that every process draws from the
//! same bucket (the api's submissions per key, the workers' requests per market-data
//! provider). The bucket holds a minute's worth (bursts up to the limit) and refills
//! continuously. The script reads Redis's own clock, so machines' clocks do not matter.
//!
//! When Redis cannot be reached the draw is let through (and counted in
//! `tradeforge_rate_limit_unavailable_total`): jobs are accepted into Postgres while Redis is
//! down, and refusing every submission then would turn a Redis outage into an API outage.

use std::sync::LazyLock;

use redis::{Script, aio::ConnectionManager};

static BUCKET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local cap = tonumber(ARGV[1])
local per_ms = cap / 60000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * per_ms)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], 61000)
local wait_ms = 0
if tokens < 1 then wait_ms = math.ceil((1 - tokens) / per_ms) end
local full_ms = math.ceil((cap - tokens) / per_ms)
return {allowed, math.floor(tokens), wait_ms, full_ms}
",
    )
});

/// The bucket after one draw.
#[derive(Debug, Clone, Copy)]
pub struct Draw {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the next token (when refused), rounded up.
    pub retry_after_s: u64,
    /// Seconds until the bucket is full again (`RateLimit-Reset`).
    pub reset_s: u64,
}

#[derive(Clone)]
pub struct RateLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl RateLimiter {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self { conn, prefix: prefix.to_owned() }
    }

    /// Takes one token from `name`'s bucket of `per_minute`. `None` when Redis did not answer.
    pub async fn draw(&self, name: &str, per_minute: u32) -> Option<Draw> {
        let mut conn = self.conn.clone();
        let answer: Result<(i64, i64, i64, i64), _> = BUCKET
            .key(format!("{}:ratelimit:{name}", self.prefix))
            .arg(per_minute)
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok((allowed, remaining, wait_ms, full_ms)) => Some(Draw {
                allowed: allowed == 1,
                limit: per_minute,
                remaining: remaining.max(0) as u32,
                retry_after_s: (wait_ms.max(0) as u64).div_ceil(1000).max(1),
                reset_s: (full_ms.max(0) as u64).div_ceil(1000),
            }),
            Err(e) => {
                metrics::counter!("tradeforge_rate_limit_unavailable_total").increment(1);
                tracing::warn!(error.message = %e, bucket = name, "rate limit not checked: Redis did not answer");
                None
            }
        }
    }
}
