//! Completed LLM steps kept with the job (`job_steps`), so that a retried attempt resumes at
//! the step that failed. Best effort both ways: a checkpoint that cannot be read or written
//! costs a model call, never the job.

use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::llm::Usage;

/// Names one question: the same model, prompts and schema give the same hash.
pub fn prompt_hash(model: &str, system: &str, user: &str, schema: &Value) -> String {
    let mut hasher = Sha256::new();
    for part in [model, system, user, &schema.to_string()] {
        // Length-prefixed, so that moving text between parts changes the hash.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The step's stored reply, when this job already answered this very question.
pub async fn load(db: &sqlx::PgPool, job: Uuid, step: &str, hash: &str) -> Option<(Value, Usage)> {
    if job.is_nil() {
        return None;
    }
    let row: Result<Option<(Value, Value)>, _> = sqlx::query_as(
        "SELECT value, usage FROM job_steps WHERE job_id = $1 AND step = $2 AND prompt_hash = $3",
    )
    .bind(job)
    .bind(step)
    .bind(hash)
    .fetch_optional(db)
    .await;
    match row {
        Ok(Some((value, usage))) => {
            Some((value, serde_json::from_value(usage).unwrap_or_default()))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error.message = %e, llm.step = step, "could not read the step's checkpoint; asking again");
            None
        }
    }
}

pub async fn save(
    db: &sqlx::PgPool,
    job: Uuid,
    step: &str,
    hash: &str,
    value: &Value,
    usage: &Usage,
) {
    if job.is_nil() {
        return;
    }
    let usage = serde_json::to_value(usage).expect("usage serialises");
    let saved = sqlx::query(
        "INSERT INTO job_steps (job_id, step, prompt_hash, value, usage) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (job_id, step) DO UPDATE
         SET prompt_hash = EXCLUDED.prompt_hash, value = EXCLUDED.value, usage = EXCLUDED.usage,
             created_at = now()",
    )
    .bind(job)
    .bind(step)
    .bind(hash)
    .bind(value)
    .bind(usage)
    .execute(db)
    .await;
    if let Err(e) = saved {
        tracing::warn!(error.message = %e, llm.step = step, "could not keep the step's checkpoint; a retry would ask again");
    }
}
