//! `GET /jobs/{id}/events`: Server-Sent Events of status and progress until the job is final.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{Path, State},
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, stream};
use shared::job::Job;

use crate::{error::ApiError, state::AppState};

const POLL: Duration = Duration::from_millis(250);

/// Stream a job's changes: an `update` event with the whole job whenever its status or progress
/// changes, ending with the final state.
#[utoipa::path(get, path = "/jobs/{id}/events", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, description = "text/event-stream of `update` events carrying the job", content_type = "text/event-stream"),
              (status = 404, body = crate::error::Problem)))]
pub async fn job_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = super::job_id(&id)?;
    let first = super::load(&state, id).await?;
    // Polls Postgres (the source of truth) rather than listening to workers: simple, and it
    // survives worker restarts; 4 cheap primary-key reads a second per open stream.
    let updates = stream::unfold(Some((state, first, true)), |cursor| async move {
        let (state, last, first) = cursor?;
        if first {
            let event = to_event(&last);
            let next = (!last.status.is_final()).then_some((state, last, false));
            return Some((Ok(event), next));
        }
        loop {
            tokio::time::sleep(POLL).await;
            let Ok(Some(job)) = shared::db::jobs::get(&state.pool, last.id).await else { continue };
            if job.status != last.status
                || job.progress != last.progress
                || job.updated_at != last.updated_at
            {
                let event = to_event(&job);
                let next = (!job.status.is_final()).then_some((state, job, false));
                return Some((Ok(event), next));
            }
        }
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::default()))
}

fn to_event(job: &Job) -> Event {
    Event::default()
        .event("update")
        .id(job.updated_at.timestamp_micros().to_string())
        .json_data(job)
        .expect("jobs serialise")
}
