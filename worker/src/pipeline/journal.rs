//! Trading-journal review: one structured call.

use serde_json::json;
use shared::job::JournalInput;

use super::{
    llm::{Step, ask},
    prompts, report,
};
use crate::job::{Artifact, JobContext, JobError, JobOutput, Services};

pub async fn run(
    services: &Services,
    input: &JournalInput,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    let model = input.model.as_ref().map_or(services.config.ollama.model.as_str(), |m| m.as_str());
    ctx.step(20.0, "review", "the coach reads the entry")?;
    let mut user = format!("Journal entry:\n{}", input.text);
    if let Some(context) = &input.context {
        user.push_str(&format!("\n\nContext: {context}"));
    }
    let review = ask(
        services,
        ctx,
        Step {
            name: "journal",
            model,
            system: prompts::JOURNAL_SYSTEM,
            user,
            schema: prompts::journal_schema(),
        },
    )
    .await?;
    ctx.step(90.0, "report", "writing the report")?;
    let result = json!({
        "task": "journal",
        "emotions": review["emotions"],
        "rules_broken": review["rules_broken"],
        "biases": review["biases"],
        "advice": review["advice"],
        "model": model,
    });
    let files = vec![
        Artifact::json("result.json", &result),
        Artifact::new("report.md", report::journal(&result)),
    ];
    Ok(JobOutput { result, files })
}
