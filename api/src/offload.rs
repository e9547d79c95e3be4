//! CPU-heavy request work, such as parsing or writing a megabyte of JSON, runs on the blocking
//! pool so that the async workers keep answering everyone else (`/health` stays at a
//! millisecond while large submissions arrive).

/// Bodies at least this large are handled off the async workers.
pub const LARGE: usize = 64 * 1024;

/// Runs `work` here when `size` is small, on the blocking pool when it is [`LARGE`].
pub async fn if_large<T: Send + 'static>(
    size: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    if size < LARGE {
        return work();
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("blocking task cancelled: {e}"),
    }
}
