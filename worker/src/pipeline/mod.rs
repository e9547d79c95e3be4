//! The work a job does, per kind. Pipelines report progress through [`JobContext`], check it
//! for cancellation between steps, and return their result and files.

mod checkpoints;
mod data;
mod forecast_context;
mod journal;
mod llm;
mod loss_history;
mod market;
mod prompts;
mod report;
mod training;
mod training_report;
mod training_result;

use shared::job::{AnalysisInput, JobSpec};

use crate::job::{JobContext, JobError, JobOutput, Services};

pub async fn run(
    services: &Services,
    spec: &JobSpec,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    match spec {
        JobSpec::Analysis(AnalysisInput::Market(input)) => market::run(services, input, ctx).await,
        JobSpec::Analysis(AnalysisInput::Journal(input)) => {
            journal::run(services, input, ctx).await
        }
        JobSpec::Training(input) => training::run(services, input, ctx).await,
    }
}

pub use llm::prepare_model;
