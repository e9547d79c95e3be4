//! The feed of every job's changes behind `GET /events`.
//!
//! While at least one feed stream is open, the listener marks every id the trigger announces
//! (not only watched ones); the fetcher reads the marked jobs' summaries in one query per burst
//! and sends each that changed, serialised once, on one `broadcast` channel. Each stream keeps
//! the changes its caller may see. So a feed stream costs no query and no polling of its own,
//! and nothing is read for the feed while nobody follows it.
//!
//! Changes made while the listener was reconnecting are not announced, so not in the feed
//! either: a client lists `GET /jobs` after (re)connecting.

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use shared::job::JobSummary;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{EventHub, Inner, Slot, admit, take_chunk};
use crate::error::ApiError;

/// Changes the channel holds for its slowest stream. A stream further behind skips to the
/// oldest change still held instead of the channel growing: memory stays bounded whatever a
/// client does, and a client that reads that slowly is told by the gap only (it re-lists).
pub(super) const CAPACITY: usize = 1024;
/// Jobs whose last sent `updated_at` is remembered, to skip writes that changed nothing shown
/// (a lease renewal, a push to Redis); past it the memory is cleared (at worst a job is sent
/// once more, unchanged).
const REMEMBERED: usize = 50_000;

/// One change of a job: its summary as `GET /jobs` lists it, serialised once for all streams.
#[derive(Debug)]
pub struct JobChange {
    /// Whose job it is: each stream keeps its caller's.
    pub owner: Option<String>,
    /// The `JobSummary` as JSON.
    pub json: String,
}

impl EventHub {
    /// Registers a feed stream for `client` that keeps the jobs of `visible_owner` (`None`:
    /// all), or refuses it past the caps shared with the per-job streams.
    pub fn subscribe_feed(
        &self,
        client: IpAddr,
        visible_owner: Option<String>,
    ) -> Result<FeedSubscription, ApiError> {
        let mut state = self.inner.state.lock().expect("hub lock");
        let slot = admit(&self.inner, &mut state, client, "GET /jobs")?;
        // Under the lock, so the listener marks every change from now on.
        let rx = self.inner.feed.subscribe();
        Ok(FeedSubscription { hub: self.inner.clone(), rx, visible_owner, _slot: slot })
    }
}

/// One open feed stream; dropping it gives its place back.
pub struct FeedSubscription {
    hub: Arc<Inner>,
    rx: broadcast::Receiver<Arc<JobChange>>,
    visible_owner: Option<String>,
    _slot: Slot,
}

impl FeedSubscription {
    /// The next change this caller may see, or `None` once the server shuts down.
    pub async fn next(&mut self) -> Option<Arc<JobChange>> {
        loop {
            let received = tokio::select! {
                received = self.rx.recv() => received,
                () = self.hub.shutdown.cancelled() => return None,
            };
            match received {
                Ok(change) => {
                    let visible = self
                        .visible_owner
                        .as_deref()
                        .is_none_or(|mine| change.owner.as_deref() == Some(mine));
                    if visible {
                        return Some(change);
                    }
                }
                // Fell `skipped` changes behind: go on from the oldest still held.
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(skipped, "job feed: a slow stream skipped changes");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// Whether anyone follows the feed (the listener marks every change only then).
pub(super) fn followed(hub: &Inner) -> bool {
    hub.feed.receiver_count() > 0
}

/// Reads one chunk of the jobs marked for the feed and sends those that changed; `false` when
/// none was marked. `sent` is the fetcher's memory of what it last sent per job.
pub(super) async fn fetch_chunk(hub: &Inner, sent: &mut HashMap<Uuid, DateTime<Utc>>) -> bool {
    let ids = take_chunk(&mut hub.state.lock().expect("hub lock").feed_dirty);
    if ids.is_empty() {
        return false;
    }
    if !followed(hub) {
        return true; // the last stream left meanwhile: nobody to read for
    }
    match shared::db::jobs::summaries(&hub.pool, &ids).await {
        Ok(jobs) => publish(hub, jobs, sent),
        Err(e) => {
            tracing::warn!(error.message = %e, jobs = ids.len(), "job feed: reading changed jobs failed; retrying");
            hub.state.lock().expect("hub lock").feed_dirty.extend(ids);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    true
}

fn publish(hub: &Inner, mut jobs: Vec<JobSummary>, sent: &mut HashMap<Uuid, DateTime<Utc>>) {
    if sent.len() > REMEMBERED {
        sent.clear();
    }
    // Oldest change first, as they happened.
    jobs.sort_by_key(|job| job.updated_at);
    for job in jobs {
        // Status and progress changes move `updated_at`; other writes leave it.
        if sent.insert(job.id, job.updated_at) == Some(job.updated_at) {
            continue;
        }
        let change = JobChange {
            owner: job.owner.clone(),
            json: serde_json::to_string(&job).expect("summaries serialise"),
        };
        // An error only means every stream closed meanwhile.
        let _ = hub.feed.send(Arc::new(change));
    }
}
