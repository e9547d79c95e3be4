//! `GET /events`: Server-Sent Events of every change to the jobs the caller may see.

use std::convert::Infallible;

use axum::{
    extract::State,
    http::Extensions,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, stream};
use tokio::time::Instant;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    events::FeedSubscription,
    server::limits::SSE_HEARTBEAT,
    state::AppState,
};

/// Stream changes of the jobs this key may see (an admin's: all; others: their owner's): a
/// `job` event whenever one is created or its status or progress changes, its `data` a job as
/// `GET /jobs` lists it. Open the stream first, then list `GET /jobs`: nothing is missed in
/// between. A stream ends after `SSE_MAX_LIFETIME_S` (reconnect and list again); a comment is
/// sent every 10 s. A client reading far slower than jobs change skips to newer changes, and
/// changes made while the API reconnects to Postgres are not streamed: list again on reconnect.
/// Counts against the same limits as `GET /jobs/{id}/events`.
#[utoipa::path(get, path = "/events", tag = "jobs",
    responses((status = 200, description = "text/event-stream of `job` events, each carrying a JobSummary", content_type = "text/event-stream"),
              (status = 429, description = "this client has SSE_MAX_STREAMS_PER_CLIENT streams open", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 503, description = "SSE_MAX_STREAMS streams are open", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(state): State<AppState>,
    principal: Principal,
    extensions: Extensions,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    principal.require(Scope::Read)?;
    let client = crate::events::client_of(&extensions);
    let feed = state.events.subscribe_feed(client, principal.visible_owner().map(str::to_owned))?;
    let deadline = Instant::now() + state.events.limits().max_lifetime;
    let changes = stream::unfold(
        (feed, deadline),
        |(mut feed, deadline): (FeedSubscription, _)| async move {
            let change = tokio::select! {
                change = feed.next() => change?,
                () = tokio::time::sleep_until(deadline) => return None,
            };
            let event = Event::default().event("job").data(change.json.as_str());
            Some((Ok(event), (feed, deadline)))
        },
    );
    Ok(Sse::new(changes).keep_alive(KeepAlive::new().interval(SSE_HEARTBEAT)))
}
