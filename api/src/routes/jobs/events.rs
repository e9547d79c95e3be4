//! `GET /jobs/{id}/events`: Server-Sent Events of status and progress until the job is final.

use std::convert::Infallible;

use axum::{
    extract::{Path, State},
    http::Extensions,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, stream};
use shared::job::Job;
use tokio::time::Instant;

use crate::{
    error::ApiError,
    events::{Latest, Subscription},
    server::limits::SSE_HEARTBEAT,
    state::AppState,
};

/// Stream a job's changes: an `update` event with the whole job whenever its status or progress
/// changes, ending with the final state. A stream also ends after `SSE_MAX_LIFETIME_S` (reconnect
/// to go on) and with a `gone` event if the job is deleted; a comment is sent every 10 s.
#[utoipa::path(get, path = "/jobs/{id}/events", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, description = "text/event-stream of `update` events carrying the job", content_type = "text/event-stream"),
              (status = 400, description = "malformed id", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 404, description = "no such job", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 429, description = "this client has SSE_MAX_STREAMS_PER_CLIENT streams open", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 503, description = "SSE_MAX_STREAMS streams are open, or the database is unavailable", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn job_events(
    State(state): State<AppState>,
    principal: crate::auth::Principal,
    Path(id): Path<String>,
    extensions: Extensions,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    principal.require(crate::auth::Scope::Read)?;
    let id = super::job_id(&id)?;
    let client = crate::events::client_of(&extensions);
    let subscription = state.events.subscribe(id, client)?;
    let first = super::load(&state, &principal, id).await?;
    let deadline = Instant::now() + state.events.limits().max_lifetime;
    let cursor = Cursor { subscription, last: None, pending: Some(first), deadline };
    let updates = stream::unfold(Some(cursor), |cursor| async move {
        let mut cursor = cursor?;
        let event = cursor.next_event().await?;
        Some((Ok(event.0), event.1.then_some(cursor)))
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::new().interval(SSE_HEARTBEAT)))
}

struct Cursor {
    subscription: Subscription,
    /// The last job sent.
    last: Option<Job>,
    /// A job to send before waiting (the state read when the stream opened).
    pending: Option<Job>,
    deadline: Instant,
}

impl Cursor {
    /// The next event and whether the stream goes on after it; `None` ends the stream.
    async fn next_event(&mut self) -> Option<(Event, bool)> {
        loop {
            if let Some(job) = self.pending.take()
                && self.is_news(&job)
            {
                let more = !job.status.is_final();
                let event = to_event(&job);
                self.last = Some(job);
                return Some((event, more));
            }
            let latest = tokio::select! {
                latest = self.subscription.next() => latest?,
                () = tokio::time::sleep_until(self.deadline) => return None,
            };
            match latest {
                Latest::Unknown => {}
                Latest::Job(job) => self.pending = Some((*job).clone()),
                Latest::Gone => {
                    let event = Event::default()
                        .event("gone")
                        .data(r#"{"detail":"the job no longer exists"}"#);
                    return Some((event, false));
                }
            }
        }
    }

    fn is_news(&self, job: &Job) -> bool {
        self.last.as_ref().is_none_or(|last| {
            job.status != last.status
                || job.progress != last.progress
                || job.updated_at != last.updated_at
        })
    }
}

fn to_event(job: &Job) -> Event {
    Event::default()
        .event("update")
        .id(job.updated_at.timestamp_micros().to_string())
        .json_data(job)
        .expect("jobs serialise")
}
