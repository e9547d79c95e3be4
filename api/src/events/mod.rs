//! Live job changes for the SSE streams: one Postgres `LISTEN` for the whole process, fanned
//! out in memory.
//!
//! Every statement that changes `jobs` notifies `tradeforge_jobs` with the ids it touched (a
//! trigger, see the migrations). [`listen`] receives those notifications on one connection and
//! marks the ids that some stream is watching; one fetcher reads all marked jobs in one query
//! and publishes each on its `watch` channel, which every stream of that job reads. So a
//! thousand streams cost one connection and one query per burst of changes, not a thousand
//! polling loops; a slow stream only ever sees the latest state, never a backlog.
//!
//! `GET /events` streams every job's changes instead: see [`firehose`].
//!
//! Streams of both kinds share the bounds: `SSE_MAX_STREAMS` in all (503 past it),
//! `SSE_MAX_STREAMS_PER_CLIENT` per client address (429), and each lives at most
//! `SSE_MAX_LIFETIME_S`.

mod firehose;
mod listen;

use std::{
    collections::{HashMap, HashSet},
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::http::StatusCode;
use shared::{
    config::{ConfigError, Env, seconds, settings::*},
    job::Job,
};
use sqlx::PgPool;
use tokio::sync::{Notify, broadcast, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use self::firehose::{FeedSubscription, JobChange};
use crate::error::ApiError;

/// Bounds of the event streams (`SSE_*` settings).
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    pub max_streams: usize,
    pub max_per_client: usize,
    pub max_lifetime: Duration,
}

impl StreamLimits {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            max_streams: env.parse(&SSE_MAX_STREAMS)?,
            max_per_client: env.parse(&SSE_MAX_STREAMS_PER_CLIENT)?,
            max_lifetime: seconds(env, &SSE_MAX_LIFETIME_S)?,
        })
    }
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self::from_env(&Env::default()).expect("the defaults are valid")
    }
}

/// What the hub last read of a watched job.
#[derive(Debug, Clone)]
pub enum Latest {
    /// Nothing read since the stream subscribed (it loads the job itself).
    Unknown,
    Job(Arc<Job>),
    /// The row no longer exists.
    Gone,
}

#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    limits: StreamLimits,
    state: Mutex<HubState>,
    /// Wakes the fetcher when ids were marked.
    marked: Notify,
    shutdown: CancellationToken,
    /// Every visible change of any job, for `GET /events`; nobody reads it (and nothing is
    /// fetched for it) while no such stream is open.
    feed: broadcast::Sender<Arc<JobChange>>,
}

#[derive(Default)]
struct HubState {
    watched: HashMap<Uuid, Watched>,
    per_client: HashMap<IpAddr, usize>,
    open: usize,
    /// Watched jobs that changed since the fetcher last read them.
    dirty: HashSet<Uuid>,
    /// Jobs that changed since the fetcher last read them for the feed (any job, while a feed
    /// stream is open).
    feed_dirty: HashSet<Uuid>,
}

struct Watched {
    tx: watch::Sender<Latest>,
    streams: usize,
}

impl EventHub {
    /// Starts the listener and the fetcher; both stop with `shutdown`, and so do the streams.
    pub fn start(pool: PgPool, limits: StreamLimits, shutdown: CancellationToken) -> Self {
        let inner = Arc::new(Inner {
            pool,
            limits,
            state: Mutex::default(),
            marked: Notify::new(),
            shutdown,
            feed: broadcast::channel(firehose::CAPACITY).0,
        });
        tokio::spawn(listen::listen(inner.clone()));
        tokio::spawn(listen::fetch(inner.clone()));
        Self { inner }
    }

    pub fn limits(&self) -> StreamLimits {
        self.inner.limits
    }

    /// Registers a stream of job `id` for `client`, or refuses it past the caps. Subscribe
    /// before reading the job: a change in between is then seen, not lost.
    pub fn subscribe(&self, id: Uuid, client: IpAddr) -> Result<Subscription, ApiError> {
        let mut state = self.inner.state.lock().expect("hub lock");
        let slot = admit(&self.inner, &mut state, client, &format!("GET /jobs/{id}"))?;
        let watched = state
            .watched
            .entry(id)
            .or_insert_with(|| Watched { tx: watch::channel(Latest::Unknown).0, streams: 0 });
        watched.streams += 1;
        let rx = watched.tx.subscribe();
        Ok(Subscription { hub: self.inner.clone(), id, rx, _slot: slot })
    }
}

/// Takes a place for one more stream of `client`, or refuses it past the caps; `poll` is what
/// to poll instead.
fn admit(
    hub: &Arc<Inner>,
    state: &mut HubState,
    client: IpAddr,
    poll: &str,
) -> Result<Slot, ApiError> {
    let limits = hub.limits;
    if state.open >= limits.max_streams {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server has {} event streams open, its limit (SSE_MAX_STREAMS); poll {poll} \
                 or retry shortly",
                state.open
            ),
        ));
    }
    let mine = state.per_client.get(&client).copied().unwrap_or(0);
    if mine >= limits.max_per_client {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{client} already has {mine} event streams open, the limit per client \
                 (SSE_MAX_STREAMS_PER_CLIENT); close one first"
            ),
        ));
    }
    state.open += 1;
    *state.per_client.entry(client).or_default() += 1;
    metrics::gauge!("tradeforge_sse_streams_open").set(state.open as f64);
    Ok(Slot { hub: hub.clone(), client })
}

/// Most ids read in one query.
const FETCH_CHUNK: usize = 1000;

/// Takes up to [`FETCH_CHUNK`] ids out of a set of changed jobs, for one query.
fn take_chunk(dirty: &mut HashSet<Uuid>) -> Vec<Uuid> {
    let ids: Vec<Uuid> = dirty.iter().take(FETCH_CHUNK).copied().collect();
    for id in &ids {
        dirty.remove(id);
    }
    ids
}

/// The address a stream is counted against (`SSE_MAX_STREAMS_PER_CLIENT`).
pub fn client_of(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or([0u8; 4].into(), |axum::extract::ConnectInfo(addr)| addr.ip())
}

/// One open stream's place under the caps; dropping it gives the place back.
struct Slot {
    hub: Arc<Inner>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.hub.state.lock().expect("hub lock");
        state.open -= 1;
        if let Some(n) = state.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                state.per_client.remove(&self.client);
            }
        }
        metrics::gauge!("tradeforge_sse_streams_open").set(state.open as f64);
    }
}

/// One open stream's registration; dropping it (the client went away) unregisters it.
pub struct Subscription {
    hub: Arc<Inner>,
    id: Uuid,
    rx: watch::Receiver<Latest>,
    _slot: Slot,
}

impl Subscription {
    /// The next state the hub read, or `None` once the server shuts down.
    pub async fn next(&mut self) -> Option<Latest> {
        tokio::select! {
            changed = self.rx.changed() => changed.ok().map(|()| self.rx.borrow_and_update().clone()),
            () = self.hub.shutdown.cancelled() => None,
        }
    }
}

impl Drop for Subscription {
    // The slot is given back after this, when the fields drop.
    fn drop(&mut self) {
        let mut state = self.hub.state.lock().expect("hub lock");
        if let Some(watched) = state.watched.get_mut(&self.id) {
            watched.streams -= 1;
            if watched.streams == 0 {
                state.watched.remove(&self.id);
                state.dirty.remove(&self.id);
            }
        }
    }
}
