//! `GET /jobs`: newest first, filtered, cursor-paginated.

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use shared::{
    db::jobs::{self, ListFilter},
    job::{JobKind, JobStatus, JobSummary, Symbol},
};
use utoipa::ToSchema;

use crate::{
    auth::{Principal, Scope, parse_owner},
    error::ApiError,
    extract::QueryPairs,
    state::AppState,
};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Serialize, ToSchema)]
pub struct JobPage {
    /// Summaries: the input shortened where it is long (`input_summarized`), no result; each
    /// job's `url` returns it whole.
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// List jobs, newest first.
#[utoipa::path(get, path = "/jobs", tag = "jobs",
    params(
        ("status" = Option<JobStatus>, Query, description = "only jobs in this status"),
        ("kind" = Option<JobKind>, Query, description = "only jobs of this kind"),
        ("symbol" = Option<String>, Query, description = "only jobs on this symbol", pattern = r"^[A-Z0-9.\-=^]{1,15}$"),
        ("owner" = Option<String>, Query, description = "only this owner's jobs (admin keys; other keys see only their own owner's)", pattern = r"^[A-Za-z0-9._@\-]{1,64}$"),
        ("limit" = Option<i64>, Query, description = "jobs per page, default 20", minimum = 1, maximum = 100),
        ("cursor" = Option<uuid::Uuid>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "a page of jobs, newest first", body = JobPage),
              (status = 400, description = "an unknown, repeated or malformed query parameter", body = crate::error::Problem),
              (status = 403, description = "`owner` names another owner and the key is not an admin's", body = crate::error::Problem),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    principal: Principal,
    QueryPairs(params): QueryPairs,
) -> Result<Json<JobPage>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(page(&state, &principal, &params).await?))
}

/// One page of the jobs `principal` may see, as `params` (the query's pairs) ask; the
/// dashboard's jobs table reads the same.
pub(crate) async fn page(
    state: &AppState,
    principal: &Principal,
    params: &[(String, String)],
) -> Result<JobPage, ApiError> {
    let mut filter = parse_filter(params)?;
    match (principal.visible_owner(), &filter.owner) {
        (None, _) => {}
        (Some(mine), Some(asked)) if asked != mine => {
            return Err(ApiError::field(
                StatusCode::FORBIDDEN,
                "query.owner",
                "only admin keys may list another owner's jobs",
            ));
        }
        (Some(mine), _) => filter.owner = Some(mine.to_owned()),
    }
    let mut query = filter.clone();
    query.limit = filter.limit + 1; // one extra row tells whether another page exists
    let mut jobs = jobs::list(&state.pool, &query).await?;
    let more = jobs.len() as i64 > filter.limit;
    jobs.truncate(filter.limit as usize);
    let next_cursor = more.then(|| jobs.last().map(|j| j.id.to_string())).flatten();
    Ok(JobPage { jobs, next_cursor })
}

fn parse_filter(params: &[(String, String)]) -> Result<ListFilter, ApiError> {
    let bad = |name: &str, msg: String| {
        ApiError::field(StatusCode::BAD_REQUEST, format!("query.{name}"), msg)
    };
    let mut filter = ListFilter { limit: DEFAULT_LIMIT, ..ListFilter::default() };
    for (i, (name, value)) in params.iter().enumerate() {
        if params[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(bad(name, "is given more than once".into()));
        }
        match name.as_str() {
            "status" => filter.status = Some(value.parse().map_err(|e| bad(name, e))?),
            "kind" => filter.kind = Some(value.parse().map_err(|e| bad(name, e))?),
            "symbol" => {
                filter.symbol =
                    Some(Symbol::parse(value).map_err(|e| bad(name, e))?.as_str().to_owned())
            }
            "limit" => {
                filter.limit =
                    value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(
                        || bad(name, format!("{value:?} is not an integer in 1..={MAX_LIMIT}")),
                    )?;
            }
            "owner" => filter.owner = Some(parse_owner(value).map_err(|e| bad(name, e))?),
            "cursor" => {
                filter.before = Some(uuid::Uuid::parse_str(value).map_err(|_| {
                    bad(name, format!("{value:?} is not a cursor from next_cursor"))
                })?);
            }
            other => {
                return Err(bad(
                    other,
                    "unknown parameter; expected status, kind, symbol, owner, limit or cursor"
                        .into(),
                ));
            }
        }
    }
    Ok(filter)
}
