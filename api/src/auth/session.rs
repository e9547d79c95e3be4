//! Dashboard sessions: a browser types its key once at `/ui/login`; from then on it sends an
//! opaque token in an HttpOnly, `SameSite=Strict` cookie. The session speaks for its key: a
//! revoked or expired key ends it at once, and logging out deletes it. Requests that change
//! state must also carry the session's CSRF token (`X-CSRF-Token`, or a form's `csrf` field).

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "tf_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts from login; a new login is needed after it.
pub const LIFETIME: Duration = Duration::hours(12);

/// A stored session, as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub key_id: String,
    pub csrf: String,
}

/// The token for the cookie and the session's CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(pool: &PgPool, key_id: &str) -> Result<NewSession, sqlx::Error> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let csrf = hex::encode(rand::random::<[u8; 32]>());
    let expires_at = Utc::now() + LIFETIME;
    // Expired sessions go here, at the rate people log in: no sweeper needed.
    sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at < now()").execute(pool).await?;
    sqlx::query(
        "INSERT INTO dashboard_sessions (token_sha256, key_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(digest(&token))
    .bind(key_id)
    .bind(&csrf)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(NewSession { token, csrf, expires_at })
}

/// The live session of this token, if any.
pub async fn find(pool: &PgPool, token: &str) -> Result<Option<Session>, sqlx::Error> {
    if !is_token(token) {
        return Ok(None); // not one of ours: no query
    }
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT key_id, csrf_token FROM dashboard_sessions
         WHERE token_sha256 = $1 AND expires_at > now()",
    )
    .bind(digest(token))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(key_id, csrf)| Session { key_id, csrf }))
}

pub async fn delete(pool: &PgPool, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM dashboard_sessions WHERE token_sha256 = $1")
        .bind(digest(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// The session token the request's cookies carry, if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether a presented CSRF token is the session's, compared in constant time.
pub fn csrf_matches(session: &Session, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| p.as_bytes().ct_eq(session.csrf.as_bytes()).into())
}

/// `Set-Cookie` for a new session; `Secure` when the request came over HTTPS (directly or
/// through a proxy that says so), since a `Secure` cookie is never sent over plain HTTP.
pub fn set_cookie(new: &NewSession, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let max_age = LIFETIME.num_seconds();
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        new.token
    ))
    .expect("hex token")
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))
        .expect("ascii")
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_shaped_safely() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; tf_session=abc; b=2"));
        assert_eq!(token(&headers), Some("abc"));
        let new = NewSession { token: "f".repeat(64), csrf: "c".into(), expires_at: Utc::now() };
        let cookie = set_cookie(&new, false);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(set_cookie(&new, true).to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn csrf_must_match_exactly() {
        let session = Session { key_id: "k".into(), csrf: "abcd".into() };
        assert!(csrf_matches(&session, Some("abcd")));
        assert!(!csrf_matches(&session, Some("abc")) && !csrf_matches(&session, None));
    }
}
