//! One structured LLM step: resumed from its checkpoint when this job already answered it,
//! else asked under the worker's LLM call limit with tokens shown as progress; the server's
//! failures mapped to job errors that say what happened.

use std::time::Duration;

use serde_json::{Value, json};
use shared::job::Progress;

use super::checkpoints;
use crate::{
    job::{JobContext, JobError, ModelState, Services},
    llm::{
        Clamped, LlmError, ServerError, StructuredRequest, Usage, chat_structured, output_tokens,
    },
};

pub struct Step<'a> {
    /// One of `config::LLM_STEPS`: names the step's token budget setting and its metrics.
    pub name: &'static str,
    pub model: &'a str,
    pub system: &'a str,
    pub user: String,
    pub schema: Value,
    /// The progress shown while it runs, with the tokens generated so far.
    pub percent: f32,
    pub stage: &'static str,
    pub message: &'static str,
}

/// What a step answered, and what it cost.
pub struct Answer {
    pub value: Value,
    pub usage: Usage,
    pub clamped: Vec<Clamped>,
    /// Taken from the checkpoint of an earlier attempt: no call this time.
    pub resumed: bool,
}

/// How long to wait before retrying a server that said it is full without saying for how long
/// (Ollama's 503 has no `Retry-After`): long enough for its queue to drain, at most
/// `RETRY_MAX_S`. A `Retry-After` is honoured as sent.
const BUSY_BACKOFF: Duration = Duration::from_secs(20);

/// Runs one step, abandoning it when the job is asked to stop.
pub async fn ask(
    services: &Services,
    ctx: &JobContext,
    step: Step<'_>,
) -> Result<Answer, JobError> {
    ctx.step(step.percent, step.stage, step.message)?;
    let hash = checkpoints::prompt_hash(step.model, step.system, &step.user, &step.schema);
    if let Some((value, usage)) =
        checkpoints::load(&services.pool, ctx.job_id(), step.name, &hash).await
    {
        tracing::info!(llm.step = step.name, "step resumed from an earlier attempt");
        return Ok(Answer { value, usage, clamped: Vec::new(), resumed: true });
    }
    let request = StructuredRequest {
        step: step.name,
        model: step.model.to_owned(),
        system: step.system.to_owned(),
        user: step.user,
        max_tokens: Some(token_budget(services, step.name, &step.schema)?),
        schema: step.schema,
        // Another seed per attempt: a retry must not replay the reply that failed.
        seed: services.config.llm.seed.wrapping_add(i64::from(ctx.attempt() - 1)),
    };
    let on_tokens = |tokens: u64| {
        let message = format!("{}: {tokens} tokens", step.message);
        ctx.report(Progress::new(step.percent, step.stage, message));
    };
    let limits = services.config.llm.stream_limits();
    let reply = tokio::select! {
        reply = async {
            let _slot = services.llm_slots.acquire().await.expect("the LLM semaphore is never closed");
            chat_structured(&services.llm, &request, limits, &on_tokens).await
        } => reply,
        _ = ctx.stopped() => return Err(ctx.checkpoint().expect_err("stopped")),
    };
    let reply = reply.map_err(|e| to_job_error(services, step.model, e))?;
    for c in &reply.clamped {
        tracing::info!(llm.step = step.name, path = %c.path, from = c.from, to = c.to, "value clamped into its range");
    }
    checkpoints::save(&services.pool, ctx.job_id(), step.name, &hash, &reply.value, &reply.usage)
        .await;
    Ok(Answer { value: reply.value, usage: reply.usage, clamped: reply.clamped, resumed: false })
}

/// `LLM_TOKEN_BUDGETS`' value for the step, else what its reply schema implies.
fn token_budget(services: &Services, name: &str, schema: &Value) -> Result<u32, JobError> {
    if let Some(tokens) = services.config.llm.token_budgets.get(name) {
        return Ok(tokens);
    }
    output_tokens(schema).map_err(|path| {
        JobError::permanent(format!("the {name} step's reply schema is unbounded at {path}"))
    })
}

fn to_job_error(services: &Services, model: &str, e: LlmError) -> JobError {
    let llm = &services.config.llm;
    if let LlmError::Server(ServerError::ModelNotFound { .. }) = &e {
        if model == llm.model {
            // The default model: the start-up check knows whether it is coming.
            return match services.model_status.get() {
                ModelState::Checking | ModelState::Pulling { .. } => JobError::transient(format!(
                    "{e}; meanwhile the worker is {}",
                    services.model_status.describe(model)
                )),
                ModelState::Missing { reason } if services.llm.can_pull() && llm.pull => {
                    JobError::permanent(format!("{e}; the worker's pull failed: {reason}"))
                }
                _ => JobError::permanent(e.to_string()),
            };
        }
        return JobError::permanent(e.to_string());
    }
    if let LlmError::Server(server) = &e
        && server.is_busy()
    {
        let default = BUSY_BACKOFF.min(services.config.retry_max);
        let wait = server.retry_after().unwrap_or(default);
        return JobError::Throttled { message: e.to_string(), wait };
    }
    if e.is_transient() {
        JobError::transient(e.to_string())
    } else {
        JobError::permanent(e.to_string())
    }
}

/// At start-up: make sure the default model is there (pulling it when `OLLAMA_PULL=true`),
/// and keep [`Services::model_status`] saying how that goes. In the background: a pull can take
/// minutes, and the server may come up after the worker.
pub async fn prepare_model(services: &Services) {
    let model = services.config.llm.model.clone();
    let pull = services.config.llm.pull;
    let status = &services.model_status;
    let on_pull = |progress: &crate::llm::ollama::PullProgress| {
        let percent = match (progress.completed, progress.total) {
            (Some(done), Some(total)) if total > 0 => Some(done.saturating_mul(100) / total),
            _ => None,
        };
        status.set(ModelState::Pulling { percent });
    };
    let mut delay = Duration::from_secs(1);
    loop {
        match services.llm.ensure_model(&model, pull, &on_pull).await {
            Ok(()) => {
                tracing::info!(%model, "model ready");
                status.set(ModelState::Ready);
                return;
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error.message = %e, %model, "model server not ready; checking again");
                status.set(ModelState::Checking);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(e) => {
                tracing::error!(error.message = %e, %model, "the default model is unavailable; analysis jobs will fail until it is");
                status.set(ModelState::Missing { reason: e.to_string() });
                return;
            }
        }
    }
}

/// Per-step usage and notes for a job's result.
#[derive(Default)]
pub struct Ledger {
    steps: serde_json::Map<String, Value>,
    total: Usage,
    clamped: Vec<Value>,
    started: Option<std::time::Instant>,
}

impl Ledger {
    pub fn start() -> Self {
        Self { started: Some(std::time::Instant::now()), ..Self::default() }
    }

    pub fn record(&mut self, step: &str, answer: &Answer) {
        let mut usage = serde_json::to_value(answer.usage).expect("usage serialises");
        usage["resumed"] = json!(answer.resumed);
        self.steps.insert(step.to_owned(), usage);
        if !answer.resumed {
            self.total.add(&answer.usage);
        }
        for c in &answer.clamped {
            self.clamped.push(json!({ "step": step, "path": c.path, "from": c.from, "to": c.to }));
        }
    }

    /// `usage`: per step, the total of this attempt's calls, and the wall time of all LLM steps
    /// (less than the calls' sum when steps ran in parallel).
    pub fn usage(&self) -> Value {
        let wall_ms = self.started.map_or(0, |s| s.elapsed().as_millis() as u64);
        json!({ "steps": self.steps, "total": self.total, "llm_wall_ms": wall_ms })
    }

    /// Values moved into their declared range, for the result to say so.
    pub fn clamped(&self) -> &[Value] {
        &self.clamped
    }
}
