//! Training jobs: N-HiTS on the close series, evaluated against naive and drift on the
//! protocol's holdout, with weights, card, metrics and the next-horizon forecast as artifacts.

use std::ops::ControlFlow;

use forecast::{ForecastError, NHitsConfig, Recipe, ScalerKind, StepProgress, TrainingReport};
use serde_json::{Value, json};
use shared::{
    job::{Progress, TrainingInput},
    market::{Bar, online::Until},
};

use super::data::load_bars;
use crate::job::{Artifact, JobContext, JobError, JobOutput, Services, StopReason};

pub async fn run(
    services: &Services,
    input: &TrainingInput,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    check_budget(services, input)?;
    ctx.step(2.0, "loading_data", format!("loading bars for {}", input.symbol.as_str()))?;
    let until = Until::Instant(chrono::Utc::now());
    let loaded = load_bars(
        services,
        ctx,
        input.data.as_ref(),
        input.symbol.as_str(),
        input.interval.unwrap_or_default(),
        until,
    )
    .await?;
    let (bars, origin) = (loaded.bars, loaded.origin);
    let series: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let config = config(input);
    forecast::check_training_input(&series, &config)
        .map_err(|e| JobError::permanent(e.to_string()))?;

    ctx.step(5.0, "training", format!("training N-HiTS for {} steps", config.max_steps))?;
    let stage = |what: &str| {
        let tag = format!("{}-{:08x}", ctx.job_id(), rand::random::<u32>());
        services.config.results_dir.join(format!(".staging-{what}-{tag}"))
    };
    let (staging, weights) = (stage("dir"), stage("weights"));
    let metadata = json!({"symbol": input.symbol.as_str(), "job_id": ctx.job_id(), "data_range": data_range(&bars)});
    let (train_ctx, train_config, dir) = (ctx.clone(), config.clone(), staging.clone());
    let weights_at = weights.clone();
    // Off the async runtime: the lease keeper and /health keep running while it trains.
    let trained = tokio::task::spawn_blocking(move || -> Result<Trained, ForecastError> {
        let device = forecast::best_device();
        let mut hooks = |p: &StepProgress| report_step(&train_ctx, p);
        let outcome = forecast::train(&series, &train_config, &device, &mut hooks)?;
        train_ctx.report(Progress::new(92.0, "saving", "saving the model and its evaluation"));
        outcome.model.save(&dir, metadata)?;
        let io = |path: std::path::PathBuf| move |source| ForecastError::Io { path, source };
        // The weights stay on disk (they can be large) and are moved into place with the rest.
        std::fs::rename(dir.join(forecast::WEIGHTS_FILE), &weights_at)
            .map_err(io(dir.join(forecast::WEIGHTS_FILE)))?;
        let card = std::fs::read(dir.join(forecast::CARD_FILE))
            .map_err(io(dir.join(forecast::CARD_FILE)))?;
        Ok(Trained { card, report: outcome.report })
    })
    .await;
    let _ = tokio::fs::remove_dir_all(&staging).await;
    let trained = trained
        .map_err(|e| JobError::transient(format!("training panicked: {e}")))?
        .map_err(|e| to_job_error(ctx, e));
    let trained = match trained.and_then(|t| ctx.checkpoint().map(|()| t)) {
        Ok(trained) => trained,
        Err(e) => {
            let _ = tokio::fs::remove_file(&weights).await;
            return Err(e);
        }
    };

    let mut result = result(ctx, input, &bars, &trained.report);
    result["data_source"] = json!(origin);
    let files = vec![
        Artifact::file("model.safetensors", weights),
        Artifact::new("model.json", trained.card),
        Artifact::json("metrics.json", &trained.report),
        Artifact::new("forecast.csv", forecast_csv(&bars, &trained.report.forecast)),
    ];
    Ok(JobOutput { result, files })
}

struct Trained {
    report: TrainingReport,
    card: Vec<u8>,
}

/// Re-checks the compute budget (stored jobs outlive settings) and refuses, before any work, a
/// model whose weights alone would exceed `MAX_ARTIFACT_BYTES`.
fn check_budget(services: &Services, input: &TrainingInput) -> Result<(), JobError> {
    let cost = input
        .check_budget(services.config.common.max_training_flops)
        .map_err(JobError::permanent)?;
    let weights = cost.parameters * 4; // float32
    let limit = services.config.max_artifact_bytes;
    if weights > limit {
        return Err(JobError::permanent(format!(
            "the model would have {:.1} M parameters, {weights} bytes of weights, over the \
             limit of {limit} bytes (MAX_ARTIFACT_BYTES): lower input_size or mlp_width",
            cost.parameters as f64 / 1e6
        )));
    }
    Ok(())
}

fn config(input: &TrainingInput) -> NHitsConfig {
    let mut config =
        NHitsConfig::new(input.horizon as usize, input.effective_input_size() as usize);
    if let Some(steps) = input.max_steps {
        config.max_steps = steps as usize;
    }
    if let Some(seed) = input.seed {
        config.seed = seed;
    }
    if let Some(lr) = input.learning_rate {
        config.learning_rate = lr;
    }
    if let Some(batch) = input.windows_batch_size {
        config.windows_batch_size = batch as usize;
    }
    if let Some(width) = input.mlp_width {
        let width = width as usize;
        config.mlp_units = vec![[width, width]; config.mlp_units.len()];
    }
    if input.scaler.as_deref() == Some("standard") {
        config.scaler = ScalerKind::Standard;
    }
    if input.recipe.as_deref() == Some("faithful") {
        config.recipe = Recipe::Faithful;
    }
    config
}

/// Progress per step; cancellation (or a timeout, a lost lease, shutdown) between steps.
fn report_step(ctx: &JobContext, p: &StepProgress) -> ControlFlow<()> {
    if ctx.stop_reason().is_some() {
        return ControlFlow::Break(());
    }
    let percent = 5.0 + 85.0 * p.step as f32 / p.max_steps.max(1) as f32;
    let mut message =
        format!("step {} of {}, training loss {:.4}", p.step, p.max_steps, p.train_loss);
    if let Some(val) = p.val_loss {
        message.push_str(&format!(", validation MASE {val:.3}"));
    }
    let detail = json!({"step": p.step, "max_steps": p.max_steps, "train_loss": p.train_loss,
                        "val_loss": p.val_loss, "learning_rate": p.learning_rate});
    ctx.report(Progress::new(percent, "training", message).with_detail(detail));
    ControlFlow::Continue(())
}

fn to_job_error(ctx: &JobContext, e: ForecastError) -> JobError {
    match e {
        ForecastError::Cancelled { .. } => {
            JobError::Stopped(ctx.stop_reason().unwrap_or(StopReason::Cancelled))
        }
        ForecastError::Io { .. } => JobError::transient(e.to_string()),
        // Bad data and configurations, divergence: the same run would fail again.
        other => JobError::permanent(other.to_string()),
    }
}

fn result(ctx: &JobContext, input: &TrainingInput, bars: &[Bar], report: &TrainingReport) -> Value {
    let split = &report.split;
    let len = |r: [usize; 2]| r[1] - r[0];
    json!({
        "model_id": ctx.job_id(),
        "symbol": input.symbol.as_str(),
        "model": "nhits",
        "data_range": data_range(bars),
        "sizes": {
            "train": len(split.fit),
            "validation": split.validation.map(len).unwrap_or(0),
            "test": len(split.test),
            "test_windows": split.test_windows,
        },
        "training_seconds": report.training_seconds,
        "seconds_per_step": report.seconds_per_step,
        "first_step_seconds": report.first_step_seconds,
        "steps_run": report.steps_run,
        "kept_step": report.kept_step,
        "stopped_early": report.stopped_early,
        "device": report.device,
        "parameter_count": report.parameter_count,
        "metrics": report.test,
        "validation_mase": report.validation_mase,
        "skill_vs_naive": report.summary.skill_vs_naive,
        "beats_naive": report.summary.beats_naive,
        "served_by": report.summary.served_by,
        "verdict": report.summary.verdict,
        "forecast": forecast_points(bars, &report.forecast),
        "config": report.config,
    })
}

fn data_range(bars: &[Bar]) -> Value {
    let (first, last) =
        (bars.first().expect("checked non-empty"), bars.last().expect("checked non-empty"));
    json!({"from": first.time, "to": last.time, "to_date": last.time.date(), "bars": bars.len()})
}

/// The forecast with timestamps continuing the data at its typical bar spacing (the median of
/// the last gaps), or bar offsets when the data has no regular spacing.
fn forecast_points(bars: &[Bar], forecast: &[f64]) -> Vec<Value> {
    let last = bars.last().expect("checked non-empty").time.to_datetime();
    let mut gaps: Vec<i64> = bars
        .windows(2)
        .rev()
        .take(50)
        .map(|w| (w[1].time.to_datetime() - w[0].time.to_datetime()).num_seconds())
        .collect();
    gaps.sort_unstable();
    let step = gaps.get(gaps.len() / 2).copied().filter(|s| *s > 0);
    forecast
        .iter()
        .enumerate()
        .map(|(i, value)| match step {
            Some(step) => {
                let time = last + chrono::Duration::seconds(step * (i as i64 + 1));
                json!({"step": i + 1, "time": time.format("%Y-%m-%dT%H:%M:%S").to_string(), "value": value})
            }
            None => json!({"step": i + 1, "value": value}),
        })
        .collect()
}

fn forecast_csv(bars: &[Bar], forecast: &[f64]) -> String {
    let mut csv = String::from("step,time,forecast\n");
    for point in forecast_points(bars, forecast) {
        let time = point["time"].as_str().unwrap_or("");
        csv.push_str(&format!("{},{time},{}\n", point["step"], point["value"]));
    }
    csv
}

#[cfg(test)]
mod tests {
    use shared::job::input_bounds;

    #[test]
    fn the_api_accepts_exactly_what_the_model_accepts() {
        assert_eq!(input_bounds::MAX_HORIZON as usize, forecast::MAX_HORIZON);
        assert_eq!(input_bounds::MAX_INPUT_SIZE as usize, forecast::MAX_INPUT_SIZE);
        assert_eq!(input_bounds::MAX_STEPS as usize, forecast::MAX_STEPS);
    }
}
