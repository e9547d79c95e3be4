//! One line of figures per scenario as it ends, and the table at the end of the run.

use std::time::Duration;

use crate::audit::{Audit, Checks};

pub struct Report {
    pub scenario: &'static str,
    pub jobs: usize,
    pub lost: usize,
    pub double_finished: usize,
    pub ran_twice: usize,
    /// The longest time from a fault to the stack doing useful work again, when measured.
    pub recovery_s: Option<f64>,
    pub figures: String,
    pub failures: Vec<String>,
    pub took: Duration,
}

impl Report {
    pub fn new(scenario: &'static str, audit: &Audit, checks: Checks, figures: String) -> Self {
        Self {
            scenario,
            jobs: audit.jobs,
            lost: audit.lost,
            double_finished: audit.double_finished,
            ran_twice: audit.ran_twice,
            recovery_s: None,
            figures: format!("{} {figures}", audit.summary()),
            failures: checks.failures,
            took: Duration::ZERO,
        }
    }

    /// A scenario that could not run to its checks.
    pub fn failed(scenario: &'static str, error: &anyhow::Error) -> Self {
        Self {
            scenario,
            jobs: 0,
            lost: 0,
            double_finished: 0,
            ran_twice: 0,
            recovery_s: None,
            figures: String::new(),
            failures: vec![format!("error: {error:#}")],
            took: Duration::ZERO,
        }
    }

    pub fn with_recovery(mut self, seconds: f64) -> Self {
        self.recovery_s = Some(seconds);
        self
    }

    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    pub fn line(&self) -> String {
        let verdict = if self.ok() {
            "ok".to_owned()
        } else {
            format!("FAILED: {}", self.failures.join("; "))
        };
        let recovery =
            self.recovery_s.map(|s| format!(" max_recovery_s={s:.1}")).unwrap_or_default();
        format!(
            "chaos {}: {}{recovery} took_s={:.1} -- {verdict}",
            self.scenario,
            self.figures.trim(),
            self.took.as_secs_f64()
        )
    }
}

pub fn table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| scenario | jobs | lost | double-finished | ran twice | max recovery | took | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in reports {
        let recovery = r.recovery_s.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} s | {} |\n",
            r.scenario,
            r.jobs,
            r.lost,
            r.double_finished,
            r.ran_twice,
            recovery,
            r.took.as_secs_f64(),
            if r.ok() { "ok" } else { "FAILED" }
        ));
    }
    out
}
