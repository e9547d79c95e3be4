//! The apalis side: one consumer per queue, configured per ../shared/APALIS.md.

use std::{convert::Infallible, sync::Arc, time::Duration};

use apalis::prelude::*;
use apalis_core::backend::{codec::Codec, ext::BackendExt};
use apalis_redis::RedisStorage;
use shared::{
    job::JobKind,
    queue::{QueueMessage, apalis_config},
};

use super::{Runtime, wake::Wakers};
use crate::execute;

/// Hands the stored bytes to the handler untouched, so a malformed payload reaches our code
/// (which logs and acknowledges it) instead of failing inside apalis, where a decode error
/// kills the consumer and re-delivers the poison message forever (APALIS.md pitfall 5).
#[derive(Debug, Clone, Default)]
pub struct RawBytes;

impl Codec<Vec<u8>> for RawBytes {
    type Compact = Vec<u8>;
    type Error = Infallible;

    fn encode(&self, input: &Vec<u8>) -> Result<Vec<u8>, Infallible> {
        Ok(input.clone())
    }

    fn decode(&self, compact: &Vec<u8>) -> Result<Vec<u8>, Infallible> {
        Ok(compact.clone())
    }
}

/// After this many deliveries of one message fail to reach Postgres, apalis is told to stop
/// retrying it (AbortError → its dead set). The job itself is still queued in Postgres, and the
/// stale-push sweep re-pushes it once the database is back.
const MAX_DELIVERY_ATTEMPTS: usize = 5;

/// The apalis task handler: decode, then execute on its own tokio task so that a consumer torn
/// down by a Redis failure (APALIS.md pitfall 4) does not abort a job halfway.
pub async fn handle(
    bytes: Vec<u8>,
    attempt: Attempt,
    rt: Data<Arc<Runtime>>,
) -> Result<(), BoxDynError> {
    let msg = match QueueMessage::decode(&bytes) {
        Ok(msg) => msg,
        Err(e) => {
            metrics::counter!("tradeforge_poison_messages_total").increment(1);
            tracing::error!(error.message = %e, "dropping a queue message that is not a job");
            return Ok(());
        }
    };
    let rt: Arc<Runtime> = (*rt).clone();
    match tokio::spawn(execute::execute(rt, msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if attempt.current() >= MAX_DELIVERY_ATTEMPTS => Err(AbortError::new(e).into()),
        Ok(Err(e)) => Err(e.into()),
        Err(join) => {
            // A panic in a pipeline: logged; the job's lease expires and the attempt counts.
            tracing::error!(error.message = %join, "job execution panicked");
            Ok(())
        }
    }
}

/// Fetch loops per queue at most. apalis fetches one message per Redis round trip, one after
/// the other (`batch_size(1)`), so one loop caps a busy queue at one message per round trip.
const MAX_CONSUMERS: usize = 4;

/// Registers the consumers of `kind`: up to [`MAX_CONSUMERS`], sharing the kind's concurrency
/// between them so that together they never hold more messages than it allows. Each factory
/// runs again (new name) after a failure.
pub fn register(mut monitor: Monitor, rt: Arc<Runtime>, kind: JobKind, wakers: Wakers) -> Monitor {
    let concurrency = rt.services.config.concurrency(kind);
    let consumers = concurrency.min(MAX_CONSUMERS);
    for i in 0..consumers {
        let share = concurrency / consumers + usize::from(i < concurrency % consumers);
        let (rt, wakers) = (rt.clone(), wakers.clone());
        monitor = monitor.register(move |run| {
            let config = &rt.services.config;
            let storage = RedisStorage::<Vec<u8>>::new(rt.producer.connection())
                .with_config(apalis_config(
                    &config.common.queue_prefix,
                    kind,
                    config.heartbeat,
                    config.missed_heartbeats,
                ))
                .with_codec(RawBytes)
                .before_start(move |_| async move {
                    // Restarts are immediate in apalis; pause so a Redis outage is not a busy loop.
                    if run > 0 {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Ok(())
                })
                .poll_with_stream(wakers.stream(kind));
            WorkerBuilder::new(format!("{}-{kind}-c{i}-r{run}", config.name))
                .backend(storage)
                .concurrency(share)
                .data(rt.clone())
                .build(handle)
        });
    }
    monitor
}
