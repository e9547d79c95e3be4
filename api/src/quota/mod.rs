//! Per-key quotas: submissions per minute (a token bucket in Redis, [`rate`]), jobs queued or
//! running at once, and training compute per day (both counted in Postgres when the job is
//! inserted, see `shared::db::quota`). Counters live outside the process, so the limits hold
//! however many api replicas serve one key.
//!
//! Defaults come from the environment; a key may override each (`api keys create
//! --max-active-jobs 5`), `unlimited` included. Jobs are counted per owner: a second key of the
//! same owner does not double what the owner may have running.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value};
use shared::{
    config::{ConfigError, Env, settings::*},
    db::quota::{ACTIVE_RETRY_AFTER, OwnerQuota, Refusal},
};

use crate::{auth::Principal, error::ApiError, state::AppState};

/// What one key may use. `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quotas {
    pub submissions_per_minute: Option<u32>,
    pub max_active_jobs: Option<u32>,
    pub training_flops_per_day: Option<f64>,
}

/// The names used in `api_keys.quotas`, the CLI and problem details.
pub const SUBMISSIONS_PER_MINUTE: &str = "submissions_per_minute";
pub const MAX_ACTIVE_JOBS: &str = "max_active_jobs";
pub const TRAINING_FLOPS_PER_DAY: &str = "training_flops_per_day";

impl Quotas {
    pub const UNLIMITED: Quotas = Quotas {
        submissions_per_minute: None,
        max_active_jobs: None,
        training_flops_per_day: None,
    };

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        // 0 in the environment means unlimited (there is no null in a variable).
        let nonzero_u32 = |setting| env.parse::<u32>(setting).map(|n| (n > 0).then_some(n));
        let flops: f64 = env.parse(&QUOTA_TRAINING_FLOPS_PER_DAY)?;
        Ok(Self {
            submissions_per_minute: nonzero_u32(&QUOTA_SUBMISSIONS_PER_MINUTE)?,
            max_active_jobs: nonzero_u32(&QUOTA_MAX_ACTIVE_JOBS)?,
            training_flops_per_day: (flops > 0.0).then_some(flops),
        })
    }

    /// The defaults with a key's overrides (`api_keys.quotas`) applied: a field that is
    /// present replaces the default, `null` meaning unlimited.
    pub fn with_overrides(self, overrides: &Value) -> Self {
        let Some(map) = overrides.as_object() else { return self };
        let pick = |name: &str, default: Option<f64>| match map.get(name) {
            None => default,
            Some(value) => value.as_f64(),
        };
        let as_u32 = |v: Option<f64>| v.map(|n| n.clamp(0.0, u32::MAX as f64) as u32);
        Self {
            submissions_per_minute: as_u32(pick(
                SUBMISSIONS_PER_MINUTE,
                self.submissions_per_minute.map(f64::from),
            )),
            max_active_jobs: as_u32(pick(MAX_ACTIVE_JOBS, self.max_active_jobs.map(f64::from))),
            training_flops_per_day: pick(TRAINING_FLOPS_PER_DAY, self.training_flops_per_day),
        }
    }
}

/// What the insert must check for this caller's job; `None` when nothing (no owner, or no
/// limit counted in Postgres).
pub fn owner_quota(principal: &Principal) -> Option<OwnerQuota> {
    let owner = principal.owner.clone()?;
    let q = principal.quotas;
    if q.max_active_jobs.is_none() && q.training_flops_per_day.is_none() {
        return None;
    }
    Some(OwnerQuota {
        owner,
        max_active: q.max_active_jobs.map(i64::from),
        training_flops_per_day: q.training_flops_per_day,
    })
}

/// Draws a submission from the key's per-minute bucket: the `RateLimit-*` headers for the
/// answer, or 429 when the bucket is empty.
pub async fn draw_submission(
    state: &AppState,
    principal: &Principal,
) -> Result<HeaderMap, ApiError> {
    let (Some(key), Some(per_minute)) =
        (&principal.key_id, principal.quotas.submissions_per_minute)
    else {
        return Ok(HeaderMap::new());
    };
    let Some(draw) = state.rate.draw(key, per_minute).await else { return Ok(HeaderMap::new()) };
    let headers = rate_headers(draw.limit.into(), draw.remaining.into(), draw.reset_s, Some(60));
    if draw.allowed {
        return Ok(headers);
    }
    Err(too_many(
        format!(
            "this key may submit {per_minute} jobs per minute ({SUBMISSIONS_PER_MINUTE}); the next can be submitted in {} s",
            draw.retry_after_s
        ),
        Duration::from_secs(draw.retry_after_s),
        headers,
    ))
}

/// 422 for a training job that alone asks more than the key's daily compute: waiting would
/// never admit it.
pub fn check_training_fits(principal: &Principal, flops: f64) -> Result<(), ApiError> {
    match principal.quotas.training_flops_per_day {
        Some(limit) if flops > limit => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input",
            format!(
                "this training needs {flops:.3e} FLOPs, more than this key's {TRAINING_FLOPS_PER_DAY} ({limit:.3e}); ask for fewer max_steps or a smaller model"
            ),
        )),
        _ => Ok(()),
    }
}

/// The answer to a job its owner's quota refused.
pub fn refused(refusal: &Refusal) -> ApiError {
    match refusal {
        Refusal::Active { limit } => too_many(
            format!(
                "this key's owner already has {limit} jobs queued or running ({MAX_ACTIVE_JOBS}); submit more as they finish"
            ),
            ACTIVE_RETRY_AFTER,
            rate_headers(*limit as u64, 0, ACTIVE_RETRY_AFTER.as_secs(), None),
        ),
        Refusal::TrainingCompute { used, asked, limit, retry_after } => too_many(
            format!(
                "this training needs {asked:.3e} FLOPs; the owner has used {used:.3e} of {limit:.3e} in the last 24 h ({TRAINING_FLOPS_PER_DAY})"
            ),
            *retry_after,
            HeaderMap::new(),
        ),
    }
}

/// `RateLimit-Limit`, `-Remaining`, `-Reset` (draft-ietf-httpapi-ratelimit-headers), and the
/// policy's window when it has one.
fn rate_headers(limit: u64, remaining: u64, reset_s: u64, window_s: Option<u64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("digits"));
    };
    set("ratelimit-limit", limit.to_string());
    set("ratelimit-remaining", remaining.to_string());
    set("ratelimit-reset", reset_s.to_string());
    if let Some(window) = window_s {
        set("ratelimit-policy", format!("{limit};w={window}"));
    }
    headers
}

fn too_many(detail: String, retry_after: Duration, mut headers: HeaderMap) -> ApiError {
    let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    headers
        .insert(header::RETRY_AFTER, HeaderValue::from_str(&seconds.to_string()).expect("digits"));
    ApiError::Refused { status: StatusCode::TOO_MANY_REQUESTS, detail, headers }
}

/// One override as the CLI takes it: a number, or `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Unlimited,
    At(f64),
}

impl std::str::FromStr for Limit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "unlimited" {
            return Ok(Limit::Unlimited);
        }
        match s.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 1.0 => Ok(Limit::At(n)),
            _ => Err(format!("{s:?} is neither a number of at least 1 nor `unlimited`")),
        }
    }
}

/// Overrides for `api_keys.quotas`, from the CLI's options.
pub fn overrides(pairs: &[(&str, Option<Limit>)]) -> Value {
    let mut map = Map::new();
    for (name, limit) in pairs {
        match limit {
            None => {}
            Some(Limit::Unlimited) => {
                map.insert((*name).to_owned(), Value::Null);
            }
            Some(Limit::At(n)) => {
                map.insert((*name).to_owned(), serde_json::json!(n));
            }
        }
    }
    Value::Object(map)
}

/// How a quota reads in `api keys list`.
pub fn describe(limit: Option<f64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |n| format!("{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_key_overrides_some_quotas_and_keeps_the_defaults_of_the_others() {
        let defaults = Quotas {
            submissions_per_minute: Some(120),
            max_active_jobs: Some(100),
            training_flops_per_day: Some(1e15),
        };
        let q =
            defaults.with_overrides(&json!({"max_active_jobs": 5, "training_flops_per_day": null}));
        assert_eq!(q.submissions_per_minute, Some(120));
        assert_eq!(q.max_active_jobs, Some(5));
        assert_eq!(q.training_flops_per_day, None);
        assert_eq!(defaults.with_overrides(&json!({})), defaults);
        let cli = overrides(&[
            (MAX_ACTIVE_JOBS, Some("5".parse().unwrap())),
            (SUBMISSIONS_PER_MINUTE, Some("unlimited".parse().unwrap())),
            (TRAINING_FLOPS_PER_DAY, None),
        ]);
        assert_eq!(cli, json!({"max_active_jobs": 5.0, "submissions_per_minute": null}));
        assert!("0".parse::<Limit>().is_err() && "-3".parse::<Limit>().is_err());
    }
}
