//! Looked-up keys, kept briefly so that most requests cost no database round trip. A revoked
//! key is seen as revoked once its entry is older than `AUTH_CACHE_S` (default 2 s): the issue
//! asks for at most 5 s. Unknown ids are cached too, so guessing costs the guesser, not
//! Postgres. The cache is bounded; when full, stale entries go first, then everything.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::PgPool;

use super::store::{self, KeyRecord};

const MAX_ENTRIES: usize = 10_000;

type Entry = (Instant, Option<Arc<KeyRecord>>);

pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The key with this id, from the cache when fresh, else from Postgres.
    pub async fn get(
        &self,
        pool: &PgPool,
        id: &str,
    ) -> Result<Option<Arc<KeyRecord>>, sqlx::Error> {
        if let Some((at, record)) = self.entries.lock().expect("cache lock").get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(record.clone());
        }
        let record = store::find(pool, id).await?.map(Arc::new);
        if record.is_some() {
            let (pool, id) = (pool.clone(), id.to_owned());
            tokio::spawn(async move {
                if let Err(e) = store::touch(&pool, &id).await {
                    tracing::debug!(error.message = %e, "recording a key's last use failed");
                }
            });
        }
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
}
