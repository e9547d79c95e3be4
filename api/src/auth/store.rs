//! API keys in Postgres.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use super::{
    keys::{self, NewKey},
    scope::Scopes,
};

/// A key as stored (never its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRecord {
    pub id: String,
    pub owner: String,
    pub secret_sha256: Vec<u8>,
    pub scopes: Vec<String>,
    pub quotas: Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    pub fn scopes(&self) -> Scopes {
        // The CHECK constraint admits only known names.
        Scopes::parse_list(self.scopes.iter().map(String::as_str)).unwrap_or_default()
    }
}

const COLUMNS: &str =
    "id, owner, secret_sha256, scopes, quotas, created_at, expires_at, revoked_at, last_used_at";

pub struct CreateKey<'a> {
    pub owner: &'a str,
    pub scopes: Scopes,
    pub quotas: Value,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a new key and returns it with its token (the only time the token exists).
pub async fn create(
    pool: &PgPool,
    new: &CreateKey<'_>,
) -> Result<(KeyRecord, String), sqlx::Error> {
    let key = NewKey::generate();
    let sql = format!(
        "INSERT INTO api_keys (id, owner, secret_sha256, scopes, quotas, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let record: KeyRecord = sqlx::query_as(&sql)
        .bind(&key.id)
        .bind(new.owner)
        .bind(&key.secret_sha256)
        .bind(new.scopes.names())
        .bind(&new.quotas)
        .bind(new.expires_at)
        .fetch_one(pool)
        .await?;
    Ok((record, key.token))
}

/// A key for `owner` with the scopes named (`"submit,read"`) and quota overrides: the short
/// form tests and tools use. Returns the token.
pub async fn issue(
    pool: &PgPool,
    owner: &str,
    scopes: &str,
    quotas: Value,
) -> Result<String, sqlx::Error> {
    let scopes = Scopes::parse_list(scopes.split(',')).map_err(sqlx::Error::Protocol)?;
    let new = CreateKey { owner, scopes, quotas, expires_at: None };
    Ok(create(pool, &new).await?.1)
}

pub async fn find(pool: &PgPool, id: &str) -> Result<Option<KeyRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
}

/// Newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<KeyRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, id");
    sqlx::query_as(&sql).fetch_all(pool).await
}

/// Revokes one key by id, or every live key of an owner by name. Returns the ids revoked.
pub async fn revoke(pool: &PgPool, id_or_owner: &str) -> Result<Vec<String>, sqlx::Error> {
    let by_id = keys::is_id(id_or_owner);
    sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = now()
         WHERE (CASE WHEN $2 THEN id = $1 ELSE owner = $1 END) AND revoked_at IS NULL
         RETURNING id",
    )
    .bind(id_or_owner)
    .bind(by_id)
    .fetch_all(pool)
    .await
}

/// Whether any live key exists (`scripts/docker-up.sh` makes the first admin key otherwise).
pub async fn any_live(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM api_keys
                        WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))",
    )
    .fetch_one(pool)
    .await
}

/// Records use, at most once a minute per key (a write per request would cost throughput).
pub async fn touch(pool: &PgPool, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(pool)
    .await
    .map(drop)
}
