//! Token and time accounting: what each call cost as the server reported it, summed per step
//! and per job for the result's `usage`, and counted in metrics.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One call's cost. Token counts are the server's own (Ollama's `prompt_eval_count` and
/// `eval_count`, OpenAI's `usage`); `duration` is the wall time we measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallUsage {
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    /// The server reported no counts: output tokens were counted as they streamed, the
    /// prompt's estimated from its length.
    pub estimated: bool,
    pub duration: Duration,
    /// Until the first token: reading the prompt (and loading the model, if it was not).
    pub first_token: Option<Duration>,
}

/// A sum over calls, as stored with results (`usage`). Milliseconds, so it reads at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub calls: u32,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    /// The calls' durations added up (parallel calls overlap, so this can exceed wall time).
    pub duration_ms: u64,
    /// Calls whose counts the server did not report (see [`CallUsage::estimated`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub estimated_calls: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Usage {
    pub fn add_call(&mut self, call: &CallUsage) {
        self.calls += 1;
        self.prompt_tokens += call.prompt_tokens;
        self.output_tokens += call.output_tokens;
        self.duration_ms += u64::try_from(call.duration.as_millis()).unwrap_or(u64::MAX);
        self.estimated_calls += u32::from(call.estimated);
    }

    pub fn add(&mut self, other: &Usage) {
        self.calls += other.calls;
        self.prompt_tokens += other.prompt_tokens;
        self.output_tokens += other.output_tokens;
        self.duration_ms += other.duration_ms;
        self.estimated_calls += other.estimated_calls;
    }

    /// Counts the call in `tradeforge_llm_tokens_total{kind,direction}` and
    /// `tradeforge_llm_call_duration_seconds{kind}`, `kind` being the step.
    pub fn record_call_metrics(step: &'static str, call: &CallUsage) {
        metrics::counter!("tradeforge_llm_tokens_total", "kind" => step, "direction" => "prompt")
            .increment(call.prompt_tokens);
        metrics::counter!("tradeforge_llm_tokens_total", "kind" => step, "direction" => "output")
            .increment(call.output_tokens);
        metrics::histogram!("tradeforge_llm_call_duration_seconds", "kind" => step)
            .record(call.duration.as_secs_f64());
        if let Some(first) = call.first_token {
            metrics::histogram!("tradeforge_llm_first_token_seconds", "kind" => step)
                .record(first.as_secs_f64());
        }
    }
}
