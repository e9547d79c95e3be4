//! A job as stored in Postgres and as returned by the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{JobKind, JobStatus};

/// How far a job has come: `percent` 0..=100, the pipeline `stage`, a human `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub percent: f32,
    pub stage: String,
    pub message: String,
    /// Stage-specific figures (training step, losses, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
}

impl Progress {
    pub fn new(percent: f32, stage: &str, message: impl Into<String>) -> Self {
        Self { percent, stage: stage.to_owned(), message: message.into(), detail: None }
    }

    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub kind: JobKind,
    pub status: JobStatus,
    pub progress: Progress,
    /// Executions so far (each claim by a worker counts one).
    pub attempts: i32,
    pub max_attempts: i32,
    /// The validated input, exactly as stored.
    #[schema(value_type = Object)]
    pub input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// File names under `/jobs/{id}/artifacts/`.
    pub artifacts: Vec<String>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Whose job this is: the owner of the key that submitted it (absent when submitted with
    /// `AUTH_MODE=disabled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The id of the key that submitted, last cancelled and last retried the job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried_by: Option<String>,
    /// A training job an admin shared: every owner's analyses may use its model.
    pub shared: bool,
}

/// A job as `GET /jobs` lists it: everything but the result, with the input summarised (inline
/// bars as their count and range, long texts cut); `url` has the whole job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobSummary {
    pub id: Uuid,
    pub kind: JobKind,
    pub status: JobStatus,
    pub progress: Progress,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The input, or its summary when `input_summarized` is true.
    #[schema(value_type = Object)]
    pub input: Value,
    /// Whether `input` was shortened; `GET url` returns it whole.
    pub input_summarized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub artifacts: Vec<String>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    pub shared: bool,
    /// `/jobs/{id}`: the whole job, result included.
    pub url: String,
}
