//! The hub's two tasks: the listener marks watched jobs that changed (every changed job while
//! the feed is followed), the fetcher reads them.

use std::{collections::HashMap, sync::Arc, time::Duration};

use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::{Inner, Latest, firehose, take_chunk};

const CHANNEL: &str = "tradeforge_jobs";

/// Receives notifications until shutdown, reconnecting after failures. Never queries: a slow
/// listener would let notifications pile up in Postgres.
pub(super) async fn listen(hub: Arc<Inner>) {
    let mut delay = Duration::from_millis(100);
    while !hub.shutdown.is_cancelled() {
        let connected = async {
            let mut listener = PgListener::connect_with(&hub.pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match hub.shutdown.run_until_cancelled(connected).await {
            None => return,
            Some(Ok(listener)) => listener,
            Some(Err(e)) => {
                tracing::warn!(error.message = %e, "job events: cannot listen to Postgres; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        delay = Duration::from_millis(100);
        // Changes made while we were not listening were not announced: read every watched job.
        mark_all(&hub);
        loop {
            let Some(received) = hub.shutdown.run_until_cancelled(listener.try_recv()).await else {
                return;
            };
            match received {
                Ok(Some(notification)) => mark(&hub, notification.payload()),
                // The connection dropped; the next call reconnects and listens again.
                Ok(None) => mark_all(&hub),
                Err(e) => {
                    tracing::warn!(error.message = %e, "job events: lost the Postgres listener; reconnecting");
                    break;
                }
            }
        }
    }
}

fn mark(hub: &Inner, payload: &str) {
    let mut state = hub.state.lock().expect("hub lock");
    let feed = firehose::followed(hub);
    let mut any = false;
    for id in payload.split(',').filter_map(|raw| raw.parse::<Uuid>().ok()) {
        if state.watched.contains_key(&id) {
            state.dirty.insert(id);
            any = true;
        }
        if feed {
            state.feed_dirty.insert(id);
            any = true;
        }
    }
    if any {
        hub.marked.notify_one();
    }
}

fn mark_all(hub: &Inner) {
    let mut state = hub.state.lock().expect("hub lock");
    let ids: Vec<Uuid> = state.watched.keys().copied().collect();
    state.dirty.extend(ids);
    hub.marked.notify_one();
}

/// Reads marked jobs, a chunk per query, and publishes what changed.
pub(super) async fn fetch(hub: Arc<Inner>) {
    // What the feed last sent of each job (only this task touches it).
    let mut sent = HashMap::new();
    loop {
        if hub.shutdown.run_until_cancelled(hub.marked.notified()).await.is_none() {
            return;
        }
        // Both kinds in turn, so neither waits for the other's backlog.
        while !hub.shutdown.is_cancelled() {
            let watched = fetch_watched(&hub).await;
            let feed = firehose::fetch_chunk(&hub, &mut sent).await;
            if !watched && !feed {
                break;
            }
        }
    }
}

/// Reads one chunk of the marked watched jobs and publishes them; `false` when none was marked.
async fn fetch_watched(hub: &Inner) -> bool {
    let ids = take_chunk(&mut hub.state.lock().expect("hub lock").dirty);
    if ids.is_empty() {
        return false;
    }
    match shared::db::jobs::get_many(&hub.pool, &ids).await {
        Ok(jobs) => publish(hub, &ids, jobs),
        Err(e) => {
            tracing::warn!(error.message = %e, jobs = ids.len(), "job events: reading changed jobs failed; retrying");
            hub.state.lock().expect("hub lock").dirty.extend(ids);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    true
}

fn publish(hub: &Inner, ids: &[Uuid], jobs: Vec<shared::job::Job>) {
    let state = hub.state.lock().expect("hub lock");
    let mut found: std::collections::HashMap<Uuid, shared::job::Job> =
        jobs.into_iter().map(|j| (j.id, j)).collect();
    for id in ids {
        let Some(watched) = state.watched.get(id) else { continue };
        match found.remove(id) {
            Some(job) => {
                let job = Arc::new(job);
                watched.tx.send_if_modified(|latest| {
                    let same =
                        matches!(latest, Latest::Job(old) if old.updated_at == job.updated_at);
                    if !same {
                        *latest = Latest::Job(job.clone());
                    }
                    !same
                });
            }
            None => {
                watched.tx.send_replace(Latest::Gone);
            }
        }
    }
}
