//! The job model: kinds, statuses, progress, the stored record, and input validation.

mod fields;
mod input;
mod record;

pub use fields::{AnalysisDate, ModelName, Symbol};
pub use input::{
    AnalysisInput, JobSpec, JournalInput, MarketInput, TrainingCost, TrainingInput,
    parse_submission, submission_schema, summarize_input,
};
pub use record::{Job, JobSummary, Progress};

/// Bounds of the training input (the worker checks they match the model's own).
pub mod input_bounds {
    pub use super::input::cost::{
        DEFAULT_MAX_STEPS, DEFAULT_MLP_WIDTH, DEFAULT_WINDOWS_BATCH_SIZE,
    };
    pub use super::input::training::{
        MAX_HORIZON, MAX_INPUT_SIZE, MAX_SEASONS, MAX_STEPS, min_bars,
    };
    pub use super::input::{MAX_CONTEXT_CHARS, MAX_QUESTION_CHARS, MAX_TEXT_CHARS};
}

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Analysis,
    Training,
}

impl JobKind {
    pub const ALL: [JobKind; 2] = [JobKind::Analysis, JobKind::Training];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Analysis => "analysis",
            JobKind::Training => "training",
        }
    }
}

impl std::str::FromStr for JobKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "analysis" => Ok(JobKind::Analysis),
            "training" => Ok(JobKind::Training),
            other => Err(format!("unknown kind {other:?}: expected \"analysis\" or \"training\"")),
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// A final status never changes again (except by an explicit retry, which starts a new run).
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled)
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "succeeded" => Ok(JobStatus::Succeeded),
            "failed" => Ok(JobStatus::Failed),
            "cancelled" => Ok(JobStatus::Cancelled),
            other => Err(format!(
                "unknown status {other:?}: expected queued, running, succeeded, failed or cancelled"
            )),
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
