//! Looked-up keys, kept briefly so that most requests cost no database round trip. A revoked
//! key is seen as revoked once its entry is older than `AUTH_CACHE_S` (default 2 s) and one
//! refresh (at most 0.5 s) is done: the issue asks for at most 5 s. When an entry expires, one
//! request refreshes it and the rest go on with the old record meanwhile. Unknown ids are cached too, so guessing costs the guesser, not
//! Postgres. The cache is bounded; when full, stale entries go first, then everything.
//!
//! While Postgres cannot be reached, a lookup gives up after [`LOOKUP_TIMEOUT`] and the next
//! ones for [`BACKOFF`] do not try: the caller gets the last known record of the key (nothing a
//! request does succeeds without Postgres anyway, so a revocation missed then costs nothing,
//! and the client sees the real cause, a 503) or, for a key never seen, the database error.
//! Without this every request would wait out the pool's acquire timeout (3 s).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;

use super::{
    Caller, Principal,
    store::{self, KeyRecord},
};
use crate::quota::Quotas;

const MAX_ENTRIES: usize = 10_000;
/// Longest a key lookup may take before Postgres is taken to be unreachable.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed lookup, how long lookups are not tried.
const BACKOFF: Duration = Duration::from_secs(1);

/// A stored key and the caller it makes, built once per lookup rather than per request.
pub struct CachedKey {
    pub record: KeyRecord,
    pub principal: Principal,
}

struct Entry {
    fetched: Instant,
    key: Option<Arc<CachedKey>>,
    /// One request is looking the key up again; the others keep using `key` meanwhile, so an
    /// expiry under load costs one query (and one `last_used_at` update), not one per request.
    refreshing: bool,
}

pub struct KeyCache {
    ttl: Duration,
    /// The quotas of a key that overrides none.
    defaults: Quotas,
    entries: Mutex<HashMap<String, Entry>>,
    unreachable_until: Mutex<Option<Instant>>,
    lookups: AtomicU64,
}

/// What the cache holds for an id, as one request sees it.
enum Cached {
    Fresh(Option<Arc<CachedKey>>),
    /// Expired, and this request is the one to look it up (with what was known before).
    Stale(Option<Arc<CachedKey>>),
    Missing,
}

impl KeyCache {
    pub fn new(ttl: Duration, defaults: Quotas) -> Self {
        Self {
            ttl,
            defaults,
            entries: Mutex::new(HashMap::new()),
            unreachable_until: Mutex::new(None),
            lookups: AtomicU64::new(0),
        }
    }

    /// How many times a key was looked up in Postgres since start.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// The key with this id, from the cache when fresh, else from Postgres.
    ///
    /// A key revoked in Postgres is refused at most `ttl` + [`LOOKUP_TIMEOUT`] later: the
    /// entry's age, plus the one refresh during which the old record is still served.
    pub async fn get(
        &self,
        pool: &PgPool,
        id: &str,
    ) -> Result<Option<Arc<CachedKey>>, sqlx::Error> {
        let known = match self.claim(id) {
            Cached::Fresh(key) => return Ok(key),
            Cached::Stale(key) => key,
            Cached::Missing => None,
        };
        let key = match self.lookup(pool, id).await {
            Ok(key) => key,
            Err(e) => {
                if let Some(entry) = self.entries.lock().expect("cache lock").get_mut(id) {
                    entry.refreshing = false;
                }
                return known.map(Some).ok_or(e);
            }
        };
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.fetched.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let entry = Entry { fetched: Instant::now(), key: key.clone(), refreshing: false };
        entries.insert(id.to_owned(), entry);
        Ok(key)
    }

    /// Reads the entry, and claims its refresh when it has expired and nobody else is at it
    /// (or whoever was has given up: a refresh lasts at most [`LOOKUP_TIMEOUT`]).
    fn claim(&self, id: &str) -> Cached {
        let mut entries = self.entries.lock().expect("cache lock");
        let Some(entry) = entries.get_mut(id) else { return Cached::Missing };
        let age = entry.fetched.elapsed();
        if age < self.ttl || (entry.refreshing && age < self.ttl + LOOKUP_TIMEOUT) {
            return Cached::Fresh(entry.key.clone());
        }
        entry.refreshing = true;
        Cached::Stale(entry.key.clone())
    }

    async fn lookup(&self, pool: &PgPool, id: &str) -> Result<Option<Arc<CachedKey>>, sqlx::Error> {
        let backing_off =
            self.unreachable_until.lock().expect("lock").is_some_and(|t| Instant::now() < t);
        if backing_off {
            return Err(sqlx::Error::PoolTimedOut);
        }
        self.lookups.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tradeforge_auth_key_lookups_total").increment(1);
        let found = tokio::time::timeout(LOOKUP_TIMEOUT, store::find(pool, id))
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut));
        match &found {
            Err(e) if shared::db::is_unavailable(e) => {
                *self.unreachable_until.lock().expect("lock") = Some(Instant::now() + BACKOFF);
            }
            Ok(Some(_)) => {
                let (pool, id) = (pool.clone(), id.to_owned());
                tokio::spawn(async move {
                    if let Err(e) = store::touch(&pool, &id).await {
                        tracing::debug!(error.message = %e, "recording a key's last use failed");
                    }
                });
            }
            _ => {}
        }
        Ok(found?.map(|record| Arc::new(self.cached(record))))
    }

    fn cached(&self, record: KeyRecord) -> CachedKey {
        let principal = Principal::new(Caller {
            key_id: Some(record.id.clone()),
            owner: Some(record.owner.clone()),
            scopes: record.scopes(),
            quotas: self.defaults.with_overrides(&record.quotas),
        });
        CachedKey { record, principal }
    }
}
