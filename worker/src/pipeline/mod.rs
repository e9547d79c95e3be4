//! The work a job does, per kind. Pipelines report progress through [`JobContext`], check it
//! for cancellation between steps, and return their result and files.

mod journal;
mod llm;
mod market;
mod prompts;
mod report;

use std::sync::Arc;

use shared::job::{AnalysisInput, JobSpec};

use crate::{
    execute::{JobContext, JobError, JobOutput},
    runtime::Runtime,
};

pub async fn run(rt: &Arc<Runtime>, spec: &JobSpec, ctx: &JobContext) -> Result<JobOutput, JobError> {
    match spec {
        JobSpec::Analysis(AnalysisInput::Market(input)) => market::run(rt, input, ctx).await,
        JobSpec::Analysis(AnalysisInput::Journal(input)) => journal::run(rt, input, ctx).await,
        JobSpec::Training(_) => Err(JobError::permanent(
            "training jobs are accepted but this worker build cannot train models yet",
        )),
    }
}

pub use llm::prepare_model;
