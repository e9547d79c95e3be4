//! Making sure the configured model is installed at start-up: check `/api/tags`, pull when
//! allowed (progress into the log, throttled), otherwise say how to fix it.

use std::time::{Duration, Instant};

use super::client::OllamaClient;
use super::types::{ModelSummary, PullProgress};
use crate::llm::error::ServerError;

/// Ollama's name for a model: a missing tag means `latest` (`llama3` is `llama3:latest`).
/// Only the last path segment can carry the tag: `host:5000/ns/model` has no tag.
pub fn canonical_model_name(name: &str) -> String {
    let name = name.trim();
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    if last_segment.contains(':') { name.to_owned() } else { format!("{name}:latest") }
}

/// Whether `installed` (from `/api/tags`) is the model `wanted` names.
pub fn is_same_model(installed: &ModelSummary, wanted: &str) -> bool {
    let wanted = canonical_model_name(wanted);
    let names = std::iter::once(installed.name.as_str()).chain(installed.model.as_deref());
    names.map(canonical_model_name).any(|name| name == wanted)
}

impl OllamaClient {
    /// Makes sure `model` is installed, pulling it when `pull` is true (`OLLAMA_PULL`).
    /// Without `pull`, a missing model is [`ServerError::ModelNotFound`] naming the fix.
    /// `on_pull` sees every progress line of a pull (for the worker's readiness report).
    pub async fn ensure_model(
        &self,
        model: &str,
        pull: bool,
        on_pull: &(dyn Fn(&PullProgress) + Send + Sync),
    ) -> Result<(), ServerError> {
        if self.list_models().await?.iter().any(|m| is_same_model(m, model)) {
            tracing::info!(llm.server = self.server(), ollama.model = model, "model is installed");
            return Ok(());
        }
        if !pull {
            return Err(self.not_installed(model, "and OLLAMA_PULL is false"));
        }
        tracing::info!(
            llm.server = self.server(),
            ollama.model = model,
            "model is missing; pulling it"
        );
        let started = Instant::now();
        let mut throttle = ProgressThrottle::default();
        self.pull(model, |progress| {
            on_pull(progress);
            if throttle.should_log(progress, Instant::now()) {
                log_progress(model, progress);
            }
        })
        .await?;
        // Trust but verify: a pull that "succeeded" under another name would fail every job.
        if !self.list_models().await?.iter().any(|m| is_same_model(m, model)) {
            return Err(self.not_installed(model, "even after a successful pull"));
        }
        let elapsed_s = started.elapsed().as_secs_f64();
        tracing::info!(ollama.model = model, elapsed_s, "model pulled");
        Ok(())
    }

    fn not_installed(&self, model: &str, why: &str) -> ServerError {
        ServerError::ModelNotFound {
            server: self.server().to_owned(),
            model: model.to_owned(),
            message: format!("model \"{model}\" is not installed {why}"),
            hint: crate::llm::error::ollama_pull_hint(model),
        }
    }
}

fn log_progress(model: &str, progress: &PullProgress) {
    match (progress.completed, progress.total) {
        (Some(completed), Some(total)) if total > 0 => {
            let percent = completed.saturating_mul(100) / total;
            let (completed_mb, total_mb) = (completed / 1_000_000, total / 1_000_000);
            tracing::info!(ollama.model = model, status = %progress.status, percent, completed_mb, total_mb, "pulling model");
        }
        _ => tracing::info!(ollama.model = model, status = %progress.status, "pulling model"),
    }
}

/// Decides which pull progress lines reach the log: every change of status or layer, each
/// further 10% of a layer, and otherwise one line per 5 s, so a multi-gigabyte download
/// writes dozens of lines instead of thousands.
#[derive(Debug, Default)]
pub(crate) struct ProgressThrottle {
    last_key: Option<(String, Option<String>)>,
    last_decile: u64,
    last_logged: Option<Instant>,
}

impl ProgressThrottle {
    pub(crate) const INTERVAL: Duration = Duration::from_secs(5);

    pub(crate) fn should_log(&mut self, progress: &PullProgress, now: Instant) -> bool {
        let key = (progress.status.clone(), progress.digest.clone());
        let decile = match (progress.completed, progress.total) {
            (Some(completed), Some(total)) if total > 0 => completed.saturating_mul(10) / total,
            _ => 0,
        };
        let due = self.last_logged.is_none_or(|at| now.duration_since(at) >= Self::INTERVAL);
        let log = self.last_key.as_ref() != Some(&key) || decile > self.last_decile || due;
        if log {
            self.last_key = Some(key);
            self.last_decile = decile;
            self.last_logged = Some(now);
        }
        log
    }
}
