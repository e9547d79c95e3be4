//! What a scenario proves, read from the three places that can disagree: the jobs table, the
//! workers' logs (every execution and every recorded outcome, with its job id) and the results
//! directory.

use std::{collections::HashMap, fmt::Write as _, path::Path};

use serde_json::Value;
use uuid::Uuid;

use testkit::procs::Stack;

#[derive(Debug, Default)]
pub struct Audit {
    pub jobs: usize,
    /// Accepted but not in a final state (or not in Postgres at all).
    pub lost: usize,
    pub by_status: HashMap<String, usize>,
    /// Jobs whose outcome was recorded more than once (log lines of recorded outcomes).
    pub double_finished: usize,
    /// Jobs the pipeline started more than once (at-least-once execution: allowed).
    pub ran_twice: usize,
    /// Result directories that are not exactly `result.json` + `report.md` of a succeeded job.
    pub bad_files: usize,
    pub max_attempts: i32,
}

impl Audit {
    pub async fn of(stack: &Stack<'_>, ids: &[Uuid]) -> anyhow::Result<Self> {
        let rows: Vec<(Uuid, String, i32)> =
            sqlx::query_as("SELECT id, status::text, attempts FROM jobs WHERE id = ANY($1)")
                .bind(ids)
                .fetch_all(&stack.pool)
                .await?;
        let mut audit = Audit { jobs: ids.len(), ..Default::default() };
        let status: HashMap<Uuid, String> =
            rows.iter().map(|(id, s, _)| (*id, s.clone())).collect();
        for (_, s, attempts) in &rows {
            *audit.by_status.entry(s.clone()).or_default() += 1;
            audit.max_attempts = audit.max_attempts.max(*attempts);
        }
        audit.lost = ids
            .iter()
            .filter(|id| {
                !matches!(
                    status.get(id).map(String::as_str),
                    Some("succeeded" | "failed" | "cancelled")
                )
            })
            .count();
        let (started, finished) = log_counts(&stack.dir.join("logs"))?;
        audit.ran_twice = ids.iter().filter(|id| started.get(id).copied().unwrap_or(0) > 1).count();
        audit.double_finished =
            ids.iter().filter(|id| finished.get(id).copied().unwrap_or(0) > 1).count();
        let results = stack.dir.join("results");
        for id in ids {
            let dir = results.join(id.to_string());
            let mut names: Vec<String> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
                Err(_) => Vec::new(),
            };
            names.sort();
            let succeeded = status.get(id).is_some_and(|s| s == "succeeded");
            let ok =
                if succeeded { names == ["report.md", "result.json"] } else { names.is_empty() };
            if !ok {
                audit.bad_files += 1;
            }
        }
        Ok(audit)
    }

    pub fn count(&self, status: &str) -> usize {
        self.by_status.get(status).copied().unwrap_or(0)
    }

    /// The checks every scenario shares; a scenario adds its own.
    pub fn check(&self, checks: &mut Checks) {
        checks.expect(self.lost == 0, format!("{} of {} jobs not final", self.lost, self.jobs));
        checks.expect(
            self.double_finished == 0,
            format!("{} jobs finished twice", self.double_finished),
        );
        checks.expect(self.bad_files == 0, format!("{} result directories wrong", self.bad_files));
    }

    pub fn summary(&self) -> String {
        let mut statuses: Vec<_> = self.by_status.iter().collect();
        statuses.sort();
        let mut s = String::new();
        for (k, v) in statuses {
            let _ = write!(s, "{k}={v} ");
        }
        format!(
            "jobs={} {}lost={} double_finished={} ran_twice={} bad_result_dirs={}",
            self.jobs, s, self.lost, self.double_finished, self.ran_twice, self.bad_files
        )
    }
}

/// Per job id: "job started" lines and recorded-outcome lines, over every worker log.
fn log_counts(logs: &Path) -> anyhow::Result<(HashMap<Uuid, usize>, HashMap<Uuid, usize>)> {
    const FINAL: [&str; 3] = ["job succeeded", "job failed", "job cancelled"];
    let (mut started, mut finished) = (HashMap::new(), HashMap::new());
    for entry in std::fs::read_dir(logs)? {
        let path = entry?.path();
        if !path.file_name().is_some_and(|n| n.to_string_lossy().contains("-w")) {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
            let Some(message) = v["message"].as_str() else { continue };
            let Some(id) = v["span"]["job.id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else {
                continue;
            };
            if message == "job started" {
                *started.entry(id).or_default() += 1;
            } else if FINAL.contains(&message) {
                *finished.entry(id).or_default() += 1;
            }
        }
    }
    Ok((started, finished))
}

/// The assertions of one scenario: every failure is kept, with its words.
#[derive(Debug, Default)]
pub struct Checks {
    pub failures: Vec<String>,
}

impl Checks {
    pub fn expect(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.failures.push(what.into());
        }
    }
}
