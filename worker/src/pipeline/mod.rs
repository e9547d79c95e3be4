//! The work a job does, per kind. Pipelines report progress through [`JobContext`], check it
//! for cancellation between steps, and return their result and files.

mod data;
mod forecast_context;
mod journal;
mod llm;
mod market;
mod prompts;
mod report;
mod training;

use std::sync::Arc;

use shared::job::{AnalysisInput, JobSpec};

use crate::{
    execute::{JobContext, JobError, JobOutput},
    runtime::Runtime,
};

pub async fn run(
    rt: &Arc<Runtime>,
    spec: &JobSpec,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    match spec {
        JobSpec::Analysis(AnalysisInput::Market(input)) => market::run(rt, input, ctx).await,
        JobSpec::Analysis(AnalysisInput::Journal(input)) => journal::run(rt, input, ctx).await,
        JobSpec::Training(input) => training::run(rt, input, ctx).await,
    }
}

pub use llm::prepare_model;
