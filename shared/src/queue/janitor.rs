//! Deletes the keys of acknowledged apalis tasks: apalis-redis keeps every task's data, meta
//! hash and done/dead membership forever (APALIS.md pitfall 11). Only ids popped from the
//! done/dead sets are touched: those are acknowledged and will never be fetched again, so
//! deleting their data cannot leave a dangling id in a queue list.

use redis::aio::ConnectionManager;

use super::QueueError;

const CHUNK: usize = 1000;

/// Cleans up to `max` acknowledged tasks of one queue. Returns how many were removed.
pub async fn clean(
    conn: &mut ConnectionManager,
    config: &apalis_redis::Config,
    max: usize,
) -> Result<usize, QueueError> {
    let mut removed = 0;
    for set in [config.done_jobs_set(), config.dead_jobs_set()] {
        while removed < max {
            let ids: Vec<String> =
                redis::cmd("SPOP").arg(&set).arg(CHUNK).query_async(conn).await?;
            if ids.is_empty() {
                break;
            }
            let mut pipe = redis::pipe();
            pipe.hdel(config.job_data_hash(), &ids).ignore();
            for id in &ids {
                pipe.del(format!("{}:{id}", config.job_meta_hash())).ignore();
            }
            pipe.query_async::<()>(conn).await?;
            removed += ids.len();
        }
    }
    Ok(removed)
}
