//! Who is calling: API keys, their scopes, and the owner whose jobs a request may touch.
//!
//! Every route but `/health` (and `/docs`, `/openapi.json` with `DOCS_PUBLIC=true`) needs
//! `Authorization: Bearer tf_…`. [`authenticate`] turns the header into a [`Principal`] that
//! handlers take as an extractor and check with [`Principal::require`]. With
//! `AUTH_MODE=disabled` every request is the anonymous principal, which may do everything.

pub mod cache;
pub mod cli;
pub mod keys;
mod middleware;
pub mod scope;
pub mod session;
pub mod store;

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
};
use shared::config::{ConfigError, Env, settings::AUTH_MODE};

pub use middleware::authenticate;
pub(crate) use middleware::check_key;
pub use scope::{Scope, Scopes};

use crate::{error::ApiError, quota::Quotas};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Required,
    Disabled,
}

impl AuthMode {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.raw(&AUTH_MODE).as_deref().unwrap_or("required") {
            "required" => Ok(AuthMode::Required),
            "disabled" => Ok(AuthMode::Disabled),
            other => Err(ConfigError::invalid(&AUTH_MODE, &other, "required or disabled")),
        }
    }
}

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Principal(Arc<Caller>);

#[derive(Debug)]
pub struct Caller {
    /// `None` for the anonymous caller of `AUTH_MODE=disabled`.
    pub key_id: Option<String>,
    pub owner: Option<String>,
    pub scopes: Scopes,
    pub quotas: Quotas,
}

impl std::ops::Deref for Principal {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl Principal {
    pub fn new(caller: Caller) -> Self {
        Self(Arc::new(caller))
    }

    /// `AUTH_MODE=disabled`: one local user, allowed everything, without quotas.
    pub fn anonymous() -> Self {
        Self::new(Caller {
            key_id: None,
            owner: None,
            scopes: Scopes::all(),
            quotas: Quotas::UNLIMITED,
        })
    }

    /// 403 unless the key holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            return Ok(());
        }
        let mut headers = HeaderMap::new();
        let challenge =
            format!(r#"Bearer realm="tradeforge", error="insufficient_scope", scope="{scope}""#);
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).expect("ascii"));
        Err(ApiError::Refused {
            status: StatusCode::FORBIDDEN,
            detail: format!(
                "this key (scopes: {}) lacks the {scope:?} scope this route needs",
                self.scopes.names().join(", ")
            )
            .replace('"', "'"),
            headers,
        })
    }

    pub fn is_admin(&self) -> bool {
        self.scopes.allows(Scope::Admin)
    }

    /// The owner whose jobs this caller sees: `None` sees every owner's (admin, anonymous).
    pub fn visible_owner(&self) -> Option<&str> {
        if self.is_admin() { None } else { Some(self.owner.as_deref().unwrap_or("")) }
    }

    /// Whether a job of `owner` is visible to this caller.
    pub fn may_see(&self, owner: Option<&str>) -> bool {
        self.visible_owner().is_none_or(|mine| owner == Some(mine))
    }
}

/// An owner name as keys carry it: 1-64 letters, digits, '.', '_', '@' or '-'. The same rule
/// checks `api keys create --name` and the `owner` filter of `GET /jobs`, so nothing a key
/// could not be named reaches a query (`GET /jobs` documents it as a pattern).
pub fn parse_owner(raw: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    ok.then(|| raw.to_owned())
        .ok_or_else(|| "expected an owner name: 1-64 letters, digits, '.', '_', '@' or '-'".into())
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Set by `authenticate` on every route that reaches a handler; its absence is a bug
        // in the router, not the client's fault.
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("route reached without authentication"))
        })
    }
}
