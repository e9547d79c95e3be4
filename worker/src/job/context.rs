//! What a running pipeline sees of the job: progress reporting and cooperative stopping.

use std::sync::{Arc, Mutex};

use shared::job::Progress;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::JobError;

/// Why a pipeline must stop before it finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The user asked (`POST /jobs/{id}/cancel`).
    Cancelled,
    /// Another worker owns the job now (our lease expired): our result would be discarded.
    LeaseLost,
    /// This worker is shutting down and its grace period ran out.
    Shutdown,
    /// The attempt exceeded `ANALYSIS_TIMEOUT_S` / `TRAINING_TIMEOUT_S`.
    TimedOut,
}

/// Cheap to clone; shared between the pipeline, its lease keeper and the shutdown logic.
#[derive(Clone)]
pub struct JobContext {
    job_id: Uuid,
    /// 1 for the first attempt; a retry samples with another seed.
    attempt: i32,
    /// Whose job this is: an analysis uses only this owner's models, or shared ones.
    owner: Option<Arc<str>>,
    progress: watch::Sender<Option<Progress>>,
    stop: CancellationToken,
    reason: Arc<Mutex<Option<StopReason>>>,
}

impl JobContext {
    pub(crate) fn new(
        job_id: Uuid,
        attempt: i32,
        owner: Option<&str>,
    ) -> (Self, watch::Receiver<Option<Progress>>) {
        let (progress, rx) = watch::channel(None);
        let stop = CancellationToken::new();
        let owner = owner.map(Arc::from);
        let ctx = Self { job_id, attempt, owner, progress, stop, reason: Arc::default() };
        (ctx, rx)
    }

    /// A context not attached to any job (unit tests of pipelines).
    pub fn detached() -> Self {
        Self::new(Uuid::nil(), 1, None).0
    }

    pub fn job_id(&self) -> Uuid {
        self.job_id
    }

    pub fn attempt(&self) -> i32 {
        self.attempt
    }

    /// The job's owner (`None`: submitted with `AUTH_MODE=disabled`).
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Records progress; the lease keeper writes it to Postgres (throttled).
    pub fn report(&self, progress: Progress) {
        self.progress.send_replace(Some(progress));
    }

    /// A step boundary: fails with [`JobError::Stopped`] when the job must stop, else reports.
    pub fn step(
        &self,
        percent: f32,
        stage: &str,
        message: impl Into<String>,
    ) -> Result<(), JobError> {
        self.checkpoint()?;
        self.report(Progress::new(percent, stage, message));
        Ok(())
    }

    pub fn checkpoint(&self) -> Result<(), JobError> {
        match self.stop_reason() {
            Some(reason) => Err(JobError::Stopped(reason)),
            None => Ok(()),
        }
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        *self.reason.lock().expect("stop reason lock")
    }

    /// Asks the pipeline to stop; the first reason wins.
    pub fn stop(&self, reason: StopReason) {
        let mut current = self.reason.lock().expect("stop reason lock");
        if current.is_none() {
            *current = Some(reason);
            self.stop.cancel();
        }
    }

    /// Resolves when the pipeline has been asked to stop (for `select!` around long awaits).
    pub async fn stopped(&self) {
        self.stop.cancelled().await
    }
}
