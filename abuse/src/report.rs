//! One line of figures per scenario, and the table at the end.

use std::time::Duration;

pub struct Report {
    pub scenario: &'static str,
    /// The row of issue 9's table this scenario replays.
    pub row: &'static str,
    pub figures: Vec<String>,
    pub failures: Vec<String>,
    pub took: Duration,
}

impl Report {
    pub fn new(scenario: &'static str, row: &'static str) -> Self {
        Self { scenario, row, figures: Vec::new(), failures: Vec::new(), took: Duration::ZERO }
    }

    pub fn failed(scenario: &'static str, error: &anyhow::Error) -> Self {
        let mut report = Self::new(scenario, "");
        report.failures.push(format!("error: {error:#}"));
        report
    }

    /// A figure for the table.
    pub fn figure(&mut self, text: impl Into<String>) {
        self.figures.push(text.into());
    }

    /// An assertion: recorded as a failure when it does not hold.
    pub fn check(&mut self, holds: bool, what: impl Into<String>) {
        if !holds {
            self.failures.push(what.into());
        }
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
        format!(
            "{:<14} {} | {} [{:.0} s]",
            self.scenario,
            self.figures.join("; "),
            verdict,
            self.took.as_secs_f64()
        )
    }
}

pub fn table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| scenario | replays | figures | took | verdict |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in reports {
        let verdict =
            if r.ok() { "ok".to_owned() } else { format!("FAILED: {}", r.failures.join("; ")) };
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} s | {verdict} |\n",
            r.scenario,
            r.row,
            r.figures.join("; "),
            r.took.as_secs_f64()
        ));
    }
    out
}
