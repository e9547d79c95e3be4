//! Looked-up keys, kept briefly so that most requests cost no database round trip. A revoked
//! key is seen as revoked once its entry is older than `AUTH_CACHE_S` (default 2 s): the issue
//! asks for at most 5 s. Unknown ids are cached too, so guessing costs the guesser, not
//! Postgres. The cache is bounded; when full, stale entries go first, then everything.
//!
//! While Postgres cannot be reached, a lookup gives up after [`LOOKUP_TIMEOUT`] and the next
//! ones for [`BACKOFF`] do not try: the caller gets the last known record of the key (nothing a
//! request does succeeds without Postgres anyway, so a revocation missed then costs nothing,
//! and the client sees the real cause, a 503) or, for a key never seen, the database error.
//! Without this every request would wait out the pool's acquire timeout (3 s).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
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

type Entry = (Instant, Option<Arc<CachedKey>>);

pub struct KeyCache {
    ttl: Duration,
    /// The quotas of a key that overrides none.
    defaults: Quotas,
    entries: Mutex<HashMap<String, Entry>>,
    unreachable_until: Mutex<Option<Instant>>,
}

impl KeyCache {
    pub fn new(ttl: Duration, defaults: Quotas) -> Self {
        Self {
            ttl,
            defaults,
            entries: Mutex::new(HashMap::new()),
            unreachable_until: Mutex::new(None),
        }
    }

    /// The key with this id, from the cache when fresh, else from Postgres.
    pub async fn get(
        &self,
        pool: &PgPool,
        id: &str,
    ) -> Result<Option<Arc<CachedKey>>, sqlx::Error> {
        let cached = self.entries.lock().expect("cache lock").get(id).cloned();
        if let Some((at, record)) = &cached
            && at.elapsed() < self.ttl
        {
            return Ok(record.clone());
        }
        let record = match self.lookup(pool, id).await {
            Ok(record) => record,
            Err(e) => {
                return match cached {
                    Some((_, Some(record))) => Ok(Some(record)),
                    _ => Err(e),
                };
            }
        };
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(id.to_owned(), (Instant::now(), record.clone()));
        Ok(record)
    }

    async fn lookup(&self, pool: &PgPool, id: &str) -> Result<Option<Arc<CachedKey>>, sqlx::Error> {
        let backing_off =
            self.unreachable_until.lock().expect("lock").is_some_and(|t| Instant::now() < t);
        if backing_off {
            return Err(sqlx::Error::PoolTimedOut);
        }
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
