//! `GET /overview`: the caller's job counts and whether the services behind the API answer,
//! in one request (a dashboard's front page).

use std::sync::LazyLock;

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use shared::db::counts::{self, JobCounts};
use utoipa::ToSchema;

use super::health::{self, PROBE_TIMEOUT, within};
use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// The jobs this key may see (an admin's: all; others: their owner's), per kind and
    /// status; every kind and status present. `null` when Postgres cannot be reached.
    pub counts: Option<JobCounts>,
    pub dependencies: Dependencies,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dependencies {
    pub postgres: Dependency,
    pub redis: Dependency,
    /// `not_configured` when the API has no `OLLAMA_URL`.
    pub ollama: Dependency,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dependency {
    pub status: DependencyStatus,
    /// Why it is not `ok` (never a password or a URL), or Ollama's version when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DependencyStatus {
    /// It answered within 2 s.
    Ok,
    /// No answer within 2 s, or not the answer expected.
    Unreachable,
    /// The API was not told where it is (Ollama only).
    NotConfigured,
}

impl DependencyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unreachable => "unreachable",
            Self::NotConfigured => "not_configured",
        }
    }
}

impl Dependency {
    fn probed(probe: Result<(), String>) -> Self {
        match probe {
            Ok(()) => Self { status: DependencyStatus::Ok, detail: None },
            Err(detail) => Self { status: DependencyStatus::Unreachable, detail: Some(detail) },
        }
    }
}

/// Job counts and dependency health. Always 200, whatever is down: an unreachable dependency
/// is reported, not an error, and with Postgres unreachable `counts` is `null`. Every probe
/// runs at once, each bounded to 2 s.
#[utoipa::path(get, path = "/overview", tag = "operations",
    responses((status = 200, description = "counts of the jobs this key may see, and the state of Postgres, Redis and Ollama", body = Overview)))]
pub async fn overview(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Overview>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(gather(&state, &principal).await))
}

/// The overview `principal` may see (the caller checks its scope). Never fails: what cannot be
/// read is reported in it.
pub async fn gather(state: &AppState, principal: &Principal) -> Overview {
    let counts = within(counts::by_kind_and_status(&state.pool, principal.visible_owner()));
    let (counts, postgres, redis, ollama) = tokio::join!(
        counts,
        health::postgres(&state.pool),
        health::redis(&state.producer),
        ollama(state.config.ollama_url.as_ref()),
    );
    if let Err(e) = &counts {
        tracing::warn!(error.message = %e, "overview: counting jobs failed");
    }
    // The counts query is a probe of Postgres too: `counts` and its status never disagree.
    let postgres =
        postgres.and(counts.as_ref().map(drop).map_err(|e| format!("counting jobs: {e}")));
    Overview {
        counts: counts.ok(),
        dependencies: Dependencies {
            postgres: Dependency::probed(postgres),
            redis: Dependency::probed(redis),
            ollama,
        },
    }
}

/// `GET {OLLAMA_URL}/api/version`, as Ollama answers it: `{"version": "0.6.2"}`.
async fn ollama(url: Option<&reqwest::Url>) -> Dependency {
    // One client for the process: its connection pool outlives a request.
    static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
        reqwest::Client::builder().timeout(PROBE_TIMEOUT).build().expect("a plain HTTP client")
    });
    #[derive(Deserialize)]
    struct Version {
        version: String,
    }
    let Some(url) = url else {
        return Dependency { status: DependencyStatus::NotConfigured, detail: None };
    };
    let endpoint = format!("{}/api/version", url.as_str().trim_end_matches('/'));
    let asked = async {
        let response = CLIENT.get(endpoint).send().await.map_err(describe)?;
        if !response.status().is_success() {
            return Err(format!("answered HTTP {}", response.status()));
        }
        let version: Version = response
            .json()
            .await
            .map_err(|e| format!("answered, but not like Ollama: {}", describe(e)))?;
        Ok(version.version)
    };
    match within(asked).await {
        Ok(version) => Dependency {
            status: DependencyStatus::Ok,
            detail: Some(format!("version {}", version.chars().take(40).collect::<String>())),
        },
        Err(detail) => Dependency { status: DependencyStatus::Unreachable, detail: Some(detail) },
    }
}

/// A reqwest error without the URL it names (which may hold a password): its innermost cause,
/// such as "Connection refused (os error 111)".
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {}s", PROBE_TIMEOUT.as_secs());
    }
    let e = e.without_url();
    let mut cause: &dyn std::error::Error = &e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}
