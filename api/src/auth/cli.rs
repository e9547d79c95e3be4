//! `api keys create | list | revoke`: managing keys from the api binary (also inside its
//! container: `docker compose exec api api keys create --name alice`). Talks to Postgres
//! directly (`DATABASE_URL`), so it works before the API serves anything.
//!
//! `create` prints the key alone on stdout, so that scripts can capture it, and what it
//! made on stderr. The key is shown once: only its hash is kept.

use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};
use shared::config::Env;

use super::{
    Scopes, parse_owner,
    store::{self, CreateKey},
};
use crate::quota::{self, Limit, Quotas};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (once).
    Create(CreateArgs),
    /// Show every key: id, owner, scopes, state, expiry, last use, quotas (never the key itself).
    List,
    /// Revoke a key by id, or every live key of an owner by name.
    Revoke {
        /// A key id (12 hex digits, as `list` shows it) or an owner name.
        id_or_owner: String,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    /// Who the key's jobs belong to; keys with the same name share their jobs.
    #[arg(long, value_parser = parse_owner)]
    name: String,
    /// Comma-separated: submit, read, admin (admin includes the others).
    #[arg(long, default_value = "submit,read", value_parser = parse_scopes)]
    scopes: Scopes,
    /// The key stops working after this long: 30d, 12h, 90m.
    #[arg(long, value_parser = parse_duration, conflicts_with = "expires_at")]
    expires_in: Option<Duration>,
    /// The key stops working at this instant (RFC 3339).
    #[arg(long)]
    expires_at: Option<DateTime<Utc>>,
    /// Overrides QUOTA_SUBMISSIONS_PER_MINUTE for this key (a number or `unlimited`).
    #[arg(long)]
    submissions_per_minute: Option<Limit>,
    /// Overrides QUOTA_MAX_ACTIVE_JOBS for this key.
    #[arg(long)]
    max_active_jobs: Option<Limit>,
    /// Overrides QUOTA_TRAINING_FLOPS_PER_DAY for this key.
    #[arg(long)]
    training_flops_per_day: Option<Limit>,
    /// Make the key only if no live key exists yet (a fresh stack's first admin key);
    /// otherwise print nothing and succeed.
    #[arg(long)]
    if_none_exist: bool,
}

pub async fn run(env: &Env, command: KeysCommand) -> anyhow::Result<()> {
    use shared::config::settings::{DATABASE_PASSWORD_FILE, DATABASE_URL};
    let database_url: String = env.parse(&DATABASE_URL)?;
    let database_url =
        shared::config::with_password_file(env, database_url, &DATABASE_PASSWORD_FILE)?;
    let pool = shared::db::connect_lazy(&database_url, 2)?;
    shared::db::migrate(&pool).await?;
    match command {
        KeysCommand::Create(args) => create(&pool, env, args).await,
        KeysCommand::List => list(&pool, env).await,
        KeysCommand::Revoke { id_or_owner } => {
            let revoked = store::revoke(&pool, &id_or_owner).await?;
            if revoked.is_empty() {
                anyhow::bail!("no live key with id or owner {id_or_owner:?}");
            }
            eprintln!(
                "revoked {} (each stops working within AUTH_CACHE_S + 0.5 s)",
                revoked.join(", ")
            );
            Ok(())
        }
    }
}

async fn create(pool: &sqlx::PgPool, env: &Env, args: CreateArgs) -> anyhow::Result<()> {
    if args.if_none_exist && store::any_live(pool).await? {
        eprintln!("a live key exists already; none made (`api keys list` shows them)");
        return Ok(());
    }
    let expires_at = args.expires_at.or_else(|| args.expires_in.map(|d| Utc::now() + d));
    let quotas = quota::overrides(&[
        (quota::SUBMISSIONS_PER_MINUTE, args.submissions_per_minute),
        (quota::MAX_ACTIVE_JOBS, args.max_active_jobs),
        (quota::TRAINING_FLOPS_PER_DAY, args.training_flops_per_day),
    ]);
    let new = CreateKey { owner: &args.name, scopes: args.scopes, quotas, expires_at };
    let (record, token) = store::create(pool, &new).await?;
    println!("{token}");
    let effective = Quotas::from_env(env)?.with_overrides(&record.quotas);
    eprintln!(
        "made key {} for {} (scopes: {}; expires: {}; {})\nThis is the only time the key is shown: keep it secret.",
        record.id,
        record.owner,
        record.scopes.join(","),
        record.expires_at.map_or("never".into(), |t| t.to_rfc3339()),
        describe(&effective),
    );
    Ok(())
}

async fn list(pool: &sqlx::PgPool, env: &Env) -> anyhow::Result<()> {
    let defaults = Quotas::from_env(env)?;
    println!(
        "{:<12}  {:<16}  {:<18}  {:<8}  {:<20}  {:<20}  QUOTAS",
        "ID", "OWNER", "SCOPES", "STATE", "EXPIRES", "LAST USED"
    );
    let when = |t: Option<DateTime<Utc>>| {
        t.map_or("never".to_owned(), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    let now = Utc::now();
    for key in store::list(pool).await? {
        let state = match (key.revoked_at, key.expires_at) {
            (Some(_), _) => "revoked",
            (None, Some(at)) if at <= now => "expired",
            _ => "live",
        };
        println!(
            "{:<12}  {:<16}  {:<18}  {:<8}  {:<20}  {:<20}  {}",
            key.id,
            key.owner,
            key.scopes.join(","),
            state,
            when(key.expires_at),
            when(key.last_used_at),
            describe(&defaults.with_overrides(&key.quotas)),
        );
    }
    Ok(())
}

fn describe(q: &Quotas) -> String {
    format!(
        "{}/min, {} active, {} training FLOPs/day",
        quota::describe(q.submissions_per_minute.map(f64::from)),
        quota::describe(q.max_active_jobs.map(f64::from)),
        q.training_flops_per_day.map_or("unlimited".into(), |f| format!("{f:.2e}")),
    )
}

fn parse_scopes(raw: &str) -> Result<Scopes, String> {
    Scopes::parse_list(raw.split(','))
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 =
        number.parse().map_err(|_| format!("{raw:?}: expected a number and a unit, e.g. 30d"))?;
    let d = match unit {
        "d" => Duration::days(n),
        "h" => Duration::hours(n),
        "m" => Duration::minutes(n),
        "s" => Duration::seconds(n),
        _ => return Err(format!("{raw:?}: the unit must be d, h, m or s")),
    };
    (n > 0).then_some(d).ok_or_else(|| format!("{raw:?}: must be positive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_owners_and_scopes_parse_as_documented() {
        assert_eq!(parse_duration("30d").unwrap(), Duration::days(30));
        assert_eq!(parse_duration("90m").unwrap(), Duration::minutes(90));
        for bad in ["", "d", "0h", "5w", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_owner("alice@example.com").is_ok());
        assert!(parse_owner("alice smith").is_err() && parse_owner("").is_err());
        assert!(parse_scopes("admin").unwrap().allows(super::super::Scope::Submit));
    }
}
