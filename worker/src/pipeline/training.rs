//! Training jobs: N-HiTS on the close series, evaluated against naive and drift on the
//! protocol's holdout, with weights, card, metrics and the next-horizon forecast as artifacts.

use std::ops::ControlFlow;

use chrono::NaiveDateTime;
use forecast::{
    ForecastError, NHitsConfig, Plan, Recipe, ScalerKind, Series, StepProgress, TrainingReport,
    Wishes,
};
use serde_json::json;
use shared::{
    job::{Progress, TrainingInput},
    market::online::Until,
};

use super::data::load_bars;
use super::loss_history::LossHistory;
use super::training_report;
use super::training_result::{data_range, forecast_csv, result};
use crate::job::{Artifact, JobContext, JobError, JobOutput, Services, StopReason};

pub async fn run(
    services: &Services,
    input: &TrainingInput,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    check_budget(services, input, input.effective_input_size())?;
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
    let values: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let times: Vec<NaiveDateTime> = bars.iter().map(|b| b.time.to_datetime()).collect();
    let (config, plan) = config(services, input, &Series::with_times(&values, &times));
    // The data may have widened the input window: re-check and record what it really costs.
    check_budget(services, input, config.input_size as u32)?;
    record_cost(services, ctx, input, config.input_size as u32).await?;
    forecast::check_training_input(&Series::with_times(&values, &times), &config)
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
        let refits = train_config.refit && train_config.recipe == Recipe::Honest;
        let mut history = LossHistory::default();
        let mut hooks = |p: &StepProgress| {
            history.record(p);
            report_step(&train_ctx, p, refits, &history)
        };
        let series = Series::with_times(&values, &times);
        let outcome = forecast::train(&series, &train_config, &device, &mut hooks)?;
        train_ctx.report(Progress::new(92.0, "saving", "saving the model and its evaluation"));
        outcome.model.save(&dir, metadata)?;
        let io = |path: std::path::PathBuf| move |source| ForecastError::Io { path, source };
        // The weights stay on disk (they can be large) and are moved into place with the rest.
        std::fs::rename(dir.join(forecast::WEIGHTS_FILE), &weights_at)
            .map_err(io(dir.join(forecast::WEIGHTS_FILE)))?;
        let card = std::fs::read(dir.join(forecast::CARD_FILE))
            .map_err(io(dir.join(forecast::CARD_FILE)))?;
        Ok(Trained { card, report: outcome.report, history })
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

    let mut result = result(ctx, input, &bars, &trained.report, &plan, &trained.history);
    result["data_source"] = json!(origin);
    let files = vec![
        Artifact::file("model.safetensors", weights),
        Artifact::new("model.json", trained.card),
        Artifact::json("metrics.json", &trained.report),
        Artifact::new("forecast.csv", forecast_csv(&trained.report)),
        Artifact::new("report.md", training_report::render(&result)),
    ];
    Ok(JobOutput { result, files })
}

struct Trained {
    report: TrainingReport,
    card: Vec<u8>,
    /// Every step of the fit and the refit, decimated.
    history: LossHistory,
}

/// Re-checks the compute budget (stored jobs outlive settings) for an input window of
/// `input_size` bars and refuses, before any work, a model whose weights alone would exceed
/// `MAX_ARTIFACT_BYTES`.
fn check_budget(
    services: &Services,
    input: &TrainingInput,
    input_size: u32,
) -> Result<(), JobError> {
    let cost = input
        .check_budget_for(input_size, services.config.common.max_training_flops)
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

/// Records the job's real cost for the daily compute quota: the estimate made at submission
/// did not know the data's seasons.
async fn record_cost(
    services: &Services,
    ctx: &JobContext,
    input: &TrainingInput,
    input_size: u32,
) -> Result<(), JobError> {
    let flops = input.cost_for(input_size).flops;
    sqlx::query("UPDATE jobs SET training_flops = $2 WHERE id = $1")
        .bind(ctx.job_id())
        .bind(flops)
        .execute(&services.pool)
        .await
        .map_err(|e| JobError::transient(format!("recording the training cost: {e}")))?;
    Ok(())
}

/// The request's settings, and what the data decided for the rest (seasons, calendar inputs,
/// an input window that sees two of the longest season within the compute budget).
fn config(services: &Services, input: &TrainingInput, series: &Series) -> (NHitsConfig, Plan) {
    let defaults = NHitsConfig::default();
    let wishes = Wishes {
        horizon: input.horizon as usize,
        input_size: input.input_size.map(|n| n as usize),
        seasons: input.seasons.as_ref().map(|s| s.iter().map(|&m| m as usize).collect()),
        exog: input.exog,
        max_input_size: input.affordable_input_size(services.config.common.max_training_flops)
            as usize,
        val_windows: defaults.val_windows,
    };
    let plan = forecast::plan(series, &wishes);
    let mut config = NHitsConfig::new(input.horizon as usize, plan.input_size);
    config.seasons = plan.season_lengths();
    config.exog = plan.exog;
    config.refit = input.refit.unwrap_or(defaults.refit);
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
    (config, plan)
}

/// Progress per step, with the loss curve so far; cancellation (or a timeout, a lost lease,
/// shutdown) between steps. With a refit the fit takes 5-60 % and the refit 60-90 %.
fn report_step(
    ctx: &JobContext,
    p: &StepProgress,
    refits: bool,
    history: &LossHistory,
) -> ControlFlow<()> {
    if ctx.stop_reason().is_some() {
        return ControlFlow::Break(());
    }
    let done = p.step as f32 / p.max_steps.max(1) as f32;
    let (percent, stage, phase) = match (refits, p.refit) {
        (false, _) => (5.0 + 85.0 * done, "training", ""),
        (true, false) => (5.0 + 55.0 * done, "training", ""),
        (true, true) => (60.0 + 30.0 * done, "refitting", "refit on the whole training region, "),
    };
    let mut message =
        format!("{phase}step {} of {}, training loss {:.4}", p.step, p.max_steps, p.train_loss);
    if let Some(val) = p.val_loss {
        message.push_str(&format!(", validation MASE {val:.3}"));
    }
    ctx.report(Progress::new(percent, stage, message).with_detail(step_detail(p, history)));
    ControlFlow::Continue(())
}

/// `progress.detail`: the latest step and the curve so far (`history`, as `loss_history`).
fn step_detail(p: &StepProgress, history: &LossHistory) -> serde_json::Value {
    json!({"step": p.step, "max_steps": p.max_steps, "train_loss": p.train_loss,
           "val_loss": p.val_loss, "learning_rate": p.learning_rate, "refit": p.refit,
           "history": history.to_json()})
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

#[cfg(test)]
mod tests {
    use shared::job::input_bounds;

    #[test]
    fn the_progress_detail_carries_the_latest_step_and_the_curve_so_far() {
        use super::{LossHistory, StepProgress, step_detail};
        let step = |step, val_loss| StepProgress {
            step,
            max_steps: 10,
            refit: false,
            train_loss: 0.5,
            val_loss,
            learning_rate: 1e-3,
        };
        let mut history = LossHistory::default();
        history.record(&step(1, None));
        history.record(&step(2, Some(0.75)));
        let detail = step_detail(&step(2, Some(0.75)), &history);
        assert_eq!((detail["step"].as_u64(), detail["max_steps"].as_u64()), (Some(2), Some(10)));
        assert_eq!(
            detail["history"],
            serde_json::json!({"step": [1, 2], "train_loss": [0.5, 0.5], "val_loss": [null, 0.75],
                               "refit": [false, false]})
        );
    }

    #[test]
    fn the_api_accepts_exactly_what_the_model_accepts() {
        assert_eq!(input_bounds::MAX_HORIZON as usize, forecast::MAX_HORIZON);
        assert_eq!(input_bounds::MAX_INPUT_SIZE as usize, forecast::MAX_INPUT_SIZE);
        assert_eq!(input_bounds::MAX_STEPS as usize, forecast::MAX_STEPS);
        assert_eq!(input_bounds::MAX_SEASONS, forecast::MAX_SEASONS);
    }

    /// The API's copy of the minimum-bars rule rejects inline data exactly when the model
    /// would, and its cost estimate counts the model's own parameters.
    #[test]
    fn the_apis_bar_minimum_and_parameter_count_are_the_models() {
        for (l, h) in [(120, 24), (60, 5), (5, 1), (672, 48), (10, 5), (3000, 720)] {
            for recipe in [forecast::Recipe::Honest, forecast::Recipe::Faithful] {
                let cfg = forecast::NHitsConfig { recipe, ..forecast::NHitsConfig::new(h, l) };
                let honest = recipe == forecast::Recipe::Honest;
                assert_eq!(
                    input_bounds::min_bars(l, h, honest),
                    forecast::minimum_bars(&cfg),
                    "{l} {h} {recipe:?}"
                );
            }
        }
        for exog in [false, true] {
            let input: shared::job::TrainingInput = serde_json::from_value(serde_json::json!({
                "symbol": "EURUSD", "model": "nhits", "horizon": 24, "exog": exog}))
            .unwrap();
            let cfg = forecast::NHitsConfig { exog, ..forecast::NHitsConfig::new(24, 333) };
            let model = forecast::Architecture::from_config(&cfg).parameter_count();
            assert_eq!(input.cost_for(333).parameters as usize, model, "exog {exog}");
        }
    }
}
