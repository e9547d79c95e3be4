//! Wakes idle apalis consumers when a job is pushed.
//!
//! apalis-redis fetches only at heartbeat time once a fetch came back empty (APALIS.md §2.5), so
//! an idle worker would take seconds to notice a job. Producers PUBLISH on
//! `<prefix>:wake:<kind>` after every push; this subscriber turns those messages into a stream
//! per queue that drives apalis' `poll_with_stream`. A 1 s tick is merged in as a safety net
//! (a missed publish, a delayed retry becoming due).

use std::{
    collections::HashMap,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures::{Stream, StreamExt, stream};
use shared::{job::JobKind, queue::wake_channel};
use tokio::sync::watch;
use tokio_stream::wrappers::{IntervalStream, WatchStream};
use tokio_util::sync::CancellationToken;

pub type WakeStream = Pin<Box<dyn Stream<Item = ()> + Send>>;

/// One watch channel per queue, bumped on every wake-up message.
#[derive(Clone)]
pub struct Wakers {
    channels: HashMap<JobKind, watch::Sender<u64>>,
}

impl Wakers {
    /// Subscribes to the wake channels of `kinds` and keeps the subscription alive (reconnecting
    /// after Redis failures) until `shutdown`.
    pub fn spawn(
        redis_url: String,
        prefix: String,
        kinds: &[JobKind],
        shutdown: CancellationToken,
    ) -> Self {
        let channels: HashMap<_, _> = kinds.iter().map(|k| (*k, watch::channel(0u64).0)).collect();
        let wakers = Self { channels };
        tokio::spawn(wakers.clone().subscribe_loop(redis_url, prefix, shutdown));
        wakers
    }

    /// A stream that yields whenever `kind` should fetch.
    pub fn stream(&self, kind: JobKind) -> WakeStream {
        let pushes = WatchStream::from_changes(self.channels[&kind].subscribe()).map(|_| ());
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let ticks = IntervalStream::new(tick).map(|_| ());
        Box::pin(Coalesced(stream::select(pushes, ticks)))
    }

    fn wake(&self, kind: JobKind) {
        if let Some(tx) = self.channels.get(&kind) {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    async fn subscribe_loop(self, redis_url: String, prefix: String, shutdown: CancellationToken) {
        let by_channel: HashMap<String, JobKind> =
            self.channels.keys().map(|k| (wake_channel(&prefix, *k), *k)).collect();
        while !shutdown.is_cancelled() {
            match self.subscribe_once(&redis_url, &by_channel, &shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error.message = %e, "wake-up subscription lost; reconnecting");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }

    async fn subscribe_once(
        &self,
        redis_url: &str,
        by_channel: &HashMap<String, JobKind>,
        shutdown: &CancellationToken,
    ) -> redis::RedisResult<()> {
        let client = redis::Client::open(redis_url)?;
        let mut pubsub = client.get_async_pubsub().await?;
        for channel in by_channel.keys() {
            pubsub.subscribe(channel).await?;
        }
        // Pushes may have happened while we were not subscribed.
        by_channel.values().for_each(|k| self.wake(*k));
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                msg = messages.next() => match msg {
                    Some(msg) => {
                        if let Some(kind) = by_channel.get(msg.get_channel_name()) {
                            self.wake(*kind);
                        }
                    }
                    None => return Err(redis::RedisError::from((redis::ErrorKind::Io, "subscription closed"))),
                },
            }
        }
    }
}

/// Yields once for all the wake-ups that arrived since it was last polled, and always leaves
/// its waker registered. apalis' `poll_with_stream` polls the stream once before each fetch and
/// ignores the answer: after a poll that returned an item, nothing would wake the consumer for
/// the next push, which then waited for the consumer's heartbeat (seconds). Polling the inner
/// stream until it is pending registers the waker every time.
struct Coalesced<S>(S);

impl<S: Stream + Unpin> Stream for Coalesced<S> {
    type Item = ();

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let mut woken = false;
        loop {
            match self.0.poll_next_unpin(cx) {
                Poll::Ready(Some(_)) => woken = true,
                Poll::Ready(None) if woken => return Poll::Ready(Some(())),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending if woken => return Poll::Ready(Some(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use futures::task::{ArcWake, waker};

    use super::*;

    struct CountWakes(AtomicUsize);

    impl ArcWake for CountWakes {
        fn wake_by_ref(this: &Arc<Self>) {
            this.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_poll_that_yields_still_leaves_the_consumer_to_be_woken_by_the_next_push() {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = waker(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _guard = rt.enter();
        let (tx, rx) = watch::channel(0u64);
        let mut stream = Coalesced(WatchStream::from_changes(rx));

        tx.send_replace(1);
        tx.send_replace(2);
        assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(Some(())));
        // apalis ignores that item and parks; the next push must wake it.
        tx.send_replace(3);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "the push woke the consumer");
        assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(Some(())));
        assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Pending);
    }
}
