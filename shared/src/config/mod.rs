//! Configuration from environment variables only (12-factor).
//!
//! Every variable either binary reads is declared once in [`settings`], with its default and a
//! one-line description; `.env.example` and the compose tests are checked against that list, so
//! a new setting cannot be forgotten there. Parsing errors name the variable.

mod env;
pub mod settings;

pub use env::{ConfigError, Env, Setting};

use std::time::Duration;

/// Settings both binaries need: where Postgres and Redis are, and how to name Redis keys.
#[derive(Clone)]
pub struct CommonConfig {
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    pub queue_prefix: String,
    pub max_attempts: i32,
    /// Compute budget of one training job, in FLOPs (checked at submission and by the worker).
    pub max_training_flops: f64,
    /// Where bars come from: `MARKET_DATA_PROVIDERS` and each provider's settings.
    pub market: crate::market::sources::MarketDataConfig,
}

impl CommonConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        use settings::*;
        let queue_prefix: String = env.parse(&QUEUE_PREFIX)?;
        if queue_prefix.is_empty() || queue_prefix.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(&QUEUE_PREFIX, &queue_prefix, "a non-empty word"));
        }
        let max_attempts: i32 = env.parse(&MAX_ATTEMPTS)?;
        if !(1..=100).contains(&max_attempts) {
            return Err(ConfigError::invalid(&MAX_ATTEMPTS, &max_attempts, "1..=100"));
        }
        let max_training_flops: f64 = env.parse(&MAX_TRAINING_FLOPS)?;
        if !(max_training_flops.is_finite() && max_training_flops > 0.0) {
            return Err(ConfigError::invalid(
                &MAX_TRAINING_FLOPS,
                &max_training_flops,
                "a positive number such as 2e14",
            ));
        }
        let database_url: String = env.parse(&DATABASE_URL)?;
        let redis_url: String = env.parse(&REDIS_URL)?;
        Ok(Self {
            database_url: with_password_file(env, database_url, &DATABASE_PASSWORD_FILE)?,
            database_max_connections: env.parse(&DATABASE_MAX_CONNECTIONS)?,
            redis_url: with_password_file(env, redis_url, &REDIS_PASSWORD_FILE)?,
            queue_prefix,
            max_attempts,
            max_training_flops,
            market: crate::market::sources::MarketDataConfig::from_env(env)?,
        })
    }
}

/// `url` with the password read from the file `setting` names, when it is set: a Docker
/// secret keeps the password out of the environment (and so out of `docker inspect`).
pub fn with_password_file(
    env: &Env,
    url: String,
    setting: &Setting,
) -> Result<String, ConfigError> {
    let Some(path) = env.raw(setting) else { return Ok(url) };
    let password = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::invalid(setting, &path, &format!("a readable file ({e})")))?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(ConfigError::invalid(setting, &path, "a file holding a password"));
    }
    Ok(insert_password(&url, password))
}

/// `scheme://user@host…` → `scheme://user:PASSWORD@host…` (percent-encoded); a password
/// already in the URL is replaced; a URL without user gets `:PASSWORD@` (Redis' form).
fn insert_password(url: &str, password: &str) -> String {
    let encoded: String = password
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (userinfo.split(':').next().unwrap_or_default(), host),
        None => ("", authority),
    };
    format!("{scheme}://{user}:{encoded}@{host}{tail}")
}

impl CommonConfig {
    /// What both binaries do first: a lazy Postgres pool, migrations (retried while Postgres
    /// starts), and a Redis producer (retried while Redis starts).
    pub async fn connect(&self) -> anyhow::Result<(sqlx::PgPool, crate::queue::Producer)> {
        use anyhow::Context;
        let pool = crate::db::connect_lazy(&self.database_url, self.database_max_connections)
            .context("invalid DATABASE_URL")?;
        crate::db::migrate(&pool).await?;
        let redis =
            crate::queue::connect_with_retry(&self.redis_url, Duration::from_secs(60)).await?;
        Ok((pool, crate::queue::Producer::new(redis, &self.queue_prefix)))
    }
}

// Hand-written so that credentials in the URLs never reach a log line.
impl std::fmt::Debug for CommonConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommonConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("queue_prefix", &self.queue_prefix)
            .field("max_attempts", &self.max_attempts)
            .field("max_training_flops", &self.max_training_flops)
            .field("market", &self.market)
            .finish()
    }
}

pub use crate::redact::redact_url;

/// Reads a whole-seconds setting as a [`Duration`], rejecting zero.
/// A secret: the contents (trimmed) of the file `file` names (a Docker secret), else the value
/// of `value`; `None` when neither is set or the file is empty.
pub fn secret(env: &Env, value: &Setting, file: &Setting) -> Result<Option<String>, ConfigError> {
    let Some(path) = env.raw(file) else { return Ok(env.raw(value)) };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::invalid(file, &path, &format!("a readable file ({e})")))?;
    Ok(Some(text.trim().to_owned()).filter(|k| !k.is_empty()))
}

pub fn seconds(env: &Env, setting: &Setting) -> Result<Duration, ConfigError> {
    let secs: u64 = env.parse(setting)?;
    if secs == 0 {
        return Err(ConfigError::invalid(setting, &secs, "a number of seconds > 0"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn missing_required_setting_names_the_variable() {
        let err = CommonConfig::from_env(&env(&[("REDIS_URL", "redis://x")])).unwrap_err();
        assert_eq!(err.to_string(), "DATABASE_URL is not set (postgres connection URL)");
    }

    #[test]
    fn malformed_number_names_the_variable_and_value() {
        let err = CommonConfig::from_env(&env(&[
            ("DATABASE_URL", "postgres://x"),
            ("REDIS_URL", "redis://x"),
            ("MAX_ATTEMPTS", "three"),
        ]))
        .unwrap_err();
        assert!(err.to_string().starts_with("MAX_ATTEMPTS=\"three\" is invalid"), "{err}");
    }

    #[test]
    fn defaults_apply_when_unset() {
        let cfg = CommonConfig::from_env(&env(&[
            ("DATABASE_URL", "postgres://x"),
            ("REDIS_URL", "redis://x"),
        ]))
        .unwrap();
        assert_eq!(cfg.queue_prefix, "tradeforge");
        assert_eq!(cfg.max_attempts, 3);
    }

    #[test]
    fn debug_output_hides_passwords() {
        assert_eq!(redact_url("postgres://tf:s3cret@db:5432/tf"), "postgres://tf:***@db:5432/tf");
        assert_eq!(redact_url("redis://redis:6379"), "redis://redis:6379");
    }

    #[test]
    fn passwords_from_secret_files_go_into_the_urls() {
        let dir = tempfile::tempdir().unwrap();
        let (db, redis) = (dir.path().join("db"), dir.path().join("redis"));
        std::fs::write(&db, "p@ss/w:rd\n").unwrap();
        std::fs::write(&redis, "r3dis").unwrap();
        let cfg = CommonConfig::from_env(&env(&[
            ("DATABASE_URL", "postgres://tradeforge@postgres:5432/tradeforge?sslmode=disable"),
            ("DATABASE_PASSWORD_FILE", db.to_str().unwrap()),
            ("REDIS_URL", "redis://redis:6379"),
            ("REDIS_PASSWORD_FILE", redis.to_str().unwrap()),
        ]))
        .unwrap();
        assert_eq!(
            cfg.database_url,
            "postgres://tradeforge:p%40ss%2Fw%3Ard@postgres:5432/tradeforge?sslmode=disable"
        );
        assert_eq!(cfg.redis_url, "redis://:r3dis@redis:6379");
        assert_eq!(insert_password("postgres://u:old@h/db", "new"), "postgres://u:new@h/db");
        let missing = CommonConfig::from_env(&env(&[
            ("DATABASE_URL", "postgres://x"),
            ("REDIS_URL", "redis://x"),
            ("REDIS_PASSWORD_FILE", "/no/such/file"),
        ]))
        .unwrap_err();
        assert!(missing.to_string().starts_with("REDIS_PASSWORD_FILE="), "{missing}");
    }
}
