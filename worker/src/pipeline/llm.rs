//! One structured LLM step, with Ollama's failures mapped to job errors.

use serde_json::Value;

use crate::{
    job::{JobContext, JobError, Services},
    ollama::{
        ChatOptions, LlmError, OllamaError, StructuredRequest, chat_structured, output_tokens,
    },
};

pub struct Step<'a> {
    /// One of `config::LLM_STEPS`: names the step's token budget setting.
    pub name: &'static str,
    pub model: &'a str,
    pub system: &'a str,
    pub user: String,
    pub schema: Value,
}

/// Runs one call, abandoning it when the job is asked to stop.
pub async fn ask(services: &Services, ctx: &JobContext, step: Step<'_>) -> Result<Value, JobError> {
    let budget = token_budget(services, &step)?;
    let request = StructuredRequest {
        model: step.model.to_owned(),
        system: step.system.to_owned(),
        user: step.user,
        schema: step.schema,
        options: ChatOptions::deterministic(
            services.config.ollama.seed,
            services.config.ollama.num_ctx,
        )
        .with_num_predict(budget),
    };
    let reply = tokio::select! {
        reply = chat_structured(&services.ollama, &request) => reply,
        _ = ctx.stopped() => return Err(ctx.checkpoint().expect_err("stopped")),
    };
    reply.map(|r| r.value).map_err(|e| to_job_error(services, step.model, e))
}

/// `LLM_TOKEN_BUDGETS`' value for the step, else what its reply schema implies.
fn token_budget(services: &Services, step: &Step<'_>) -> Result<u32, JobError> {
    if let Some(tokens) = services.config.ollama.token_budgets.get(step.name) {
        return Ok(tokens);
    }
    output_tokens(&step.schema).map_err(|path| {
        JobError::permanent(format!("the {} step's reply schema is unbounded at {path}", step.name))
    })
}

fn to_job_error(services: &Services, model: &str, e: LlmError) -> JobError {
    if let LlmError::Ollama(OllamaError::ModelNotFound { .. }) = &e {
        if services.config.ollama.pull && model == services.config.ollama.model {
            // The start-up pull may still be downloading it.
            return JobError::transient(format!("{e} (the worker is pulling it; retrying)"));
        }
        return JobError::permanent(e.to_string());
    }
    if e.is_transient() {
        JobError::transient(e.to_string())
    } else {
        JobError::permanent(e.to_string())
    }
}

/// At start-up: make sure the default model is there, pulling it when `OLLAMA_PULL=true`.
/// Runs in the background: a pull can take minutes, and Ollama may come up after the worker.
pub async fn prepare_model(services: &Services) {
    let model = services.config.ollama.model.clone();
    let mut delay = std::time::Duration::from_secs(1);
    for _ in 0..10 {
        match services.ollama.ensure_model(&model, services.config.ollama.pull).await {
            Ok(()) => {
                tracing::info!(%model, "Ollama model ready");
                return;
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error.message = %e, %model, "Ollama not ready; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
            Err(e) => {
                tracing::error!(error.message = %e, %model, "the default model is unavailable; analysis jobs will fail until it is");
                return;
            }
        }
    }
}
