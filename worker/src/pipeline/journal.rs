//! Trading-journal review: one structured call.

use serde_json::json;
use shared::job::JournalInput;

use super::{
    llm::{Ledger, Step, ask},
    prompts, report,
};
use crate::job::{Artifact, JobContext, JobError, JobOutput, Services};

pub async fn run(
    services: &Services,
    input: &JournalInput,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    let model = input.model.as_ref().map_or(services.config.llm.model.as_str(), |m| m.as_str());
    let mut text = input.text.clone();
    if let Some(context) = &input.context {
        text.push_str(&format!("\n\nContext given by the trader: {context}"));
    }
    let task = "Review this journal entry as a trading coach: the emotions it shows, the rules \
                broken, the biases at work, and short concrete advice.";
    let mut ledger = Ledger::start();
    let review = ask(
        services,
        ctx,
        Step {
            name: "journal",
            model,
            system: prompts::JOURNAL_SYSTEM,
            user: prompts::quoted("Journal entry", &text, task),
            schema: prompts::journal_schema(),
            percent: 20.0,
            stage: "review",
            message: "the coach reads the entry",
        },
    )
    .await?;
    ledger.record("journal", &review);
    let review = review.value;
    ctx.step(90.0, "report", "writing the report")?;
    let result = json!({
        "task": "journal",
        "emotions": review["emotions"],
        "rules_broken": review["rules_broken"],
        "biases": review["biases"],
        "advice": review["advice"],
        "model": model,
        "usage": ledger.usage(),
    });
    let files = vec![
        Artifact::json("result.json", &result),
        Artifact::new("report.md", report::journal(&result)),
    ];
    Ok(JobOutput { result, files })
}
