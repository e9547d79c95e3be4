//! The optimisation loop: sample windows, forward, masked MAE, backward, Adam, StepLR,
//! validation checks and best-weight keeping.

use std::ops::ControlFlow;
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::loss::masked_mae;
use crate::network::{Architecture, DeviceNet, ForwardCache, HostParams, backward};
use crate::optim::Adam;
use crate::predict::FixedBatch;
use crate::protocol::score;
use crate::windows::{FutrInputs, HostBatch, TrainingWindows};
use crate::{ForecastError, NHitsConfig, StepProgress, TrainingHooks};

/// Validation origins and what they are scored against.
pub(crate) struct Validation<'a> {
    pub(crate) series: &'a [f64],
    pub(crate) origins: Vec<usize>,
    pub(crate) mase_scale: f64,
}

pub(crate) struct Fitted {
    pub(crate) net: DeviceNet,
    pub(crate) steps_run: usize,
    pub(crate) kept_step: usize,
    pub(crate) stopped_early: bool,
    pub(crate) final_train_loss: f64,
    pub(crate) first_step_seconds: f64,
    pub(crate) training_seconds: f64,
}

/// One training run: on which bars, for how many steps.
pub(crate) struct Run<'a> {
    /// Windows are cut from `series[..fit_end]`.
    pub(crate) fit_end: usize,
    /// Optimiser steps; the learning-rate schedule stays `cfg.max_steps`'s, so a refit for the
    /// kept step's count follows the same rates as the run that chose it.
    pub(crate) steps: usize,
    /// Calendar inputs of every bar (and `horizon` past the end), for a model that reads them.
    pub(crate) futr: Option<FutrInputs<'a>>,
    /// Reported to the hooks: this is the refit on the whole training region.
    pub(crate) refit: bool,
}

/// Trains on windows of `series[..run.fit_end]` (float32). With `validation`, checks every
/// `val_check_steps` steps and at the last one, and keeps the best weights.
pub(crate) fn fit(
    series: &[f32],
    run: &Run<'_>,
    cfg: &NHitsConfig,
    device: &Device,
    validation: Option<Validation<'_>>,
    hooks: &mut dyn TrainingHooks,
    started: Instant,
) -> Result<Fitted, ForecastError> {
    let (l, h) = (cfg.input_size, cfg.horizon);
    let fit_end = run.fit_end;
    // One stream, as torch's global generator: weights first, then every batch's windows.
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let arch = Architecture::from_config(cfg);
    let mut params = HostParams::init(&arch, &mut rng);
    let mut net = DeviceNet::new(arch, &params, device)?;
    let mut adam = Adam::new(&params);
    let windows = TrainingWindows::new(&series[..fit_end], l, h, run.futr);
    let val_batch = match &validation {
        Some(v) => Some(FixedBatch::new(&net, series, &v.origins, cfg.scaler, run.futr)?),
        None => None,
    };

    let train_started = Instant::now();
    let mut best: Option<(f64, usize, HostParams)> = None;
    let mut checks_without_gain = 0;
    let (mut first_step_seconds, mut final_train_loss, mut steps_run) = (0.0, f64::NAN, 0);
    let mut stopped_early = false;
    for step in 0..run.steps {
        let batch = windows.batch(&windows.sample(&mut rng, cfg.windows_batch_size), cfg.scaler);
        let loss =
            train_step(&net, &batch, &mut adam, &mut params, cfg.learning_rate_at(step), (l, h))?;
        net.upload(&params)?;
        steps_run = step + 1;
        final_train_loss = loss as f64;
        if !loss.is_finite() {
            return Err(ForecastError::Diverged { step: steps_run, loss: final_train_loss });
        }
        if steps_run == 1 {
            first_step_seconds = started.elapsed().as_secs_f64();
        }

        let check = steps_run.is_multiple_of(cfg.val_check_steps) || steps_run == run.steps;
        let val_loss = match (&validation, &val_batch) {
            (Some(v), Some(b)) if check => {
                let mase = score(v.series, &v.origins, &b.predict(&net)?, v.mase_scale).mase;
                // A NaN score never counts as an improvement.
                if !mase.is_nan() && best.as_ref().is_none_or(|(best_val, _, _)| mase < *best_val) {
                    best = Some((mase, steps_run, params.clone()));
                    checks_without_gain = 0;
                } else {
                    checks_without_gain += 1;
                }
                Some(mase)
            }
            _ => None,
        };
        let progress = StepProgress {
            step: steps_run,
            max_steps: run.steps,
            refit: run.refit,
            train_loss: final_train_loss,
            val_loss,
            learning_rate: cfg.learning_rate_at(step),
        };
        if let ControlFlow::Break(()) = hooks.on_step(&progress) {
            return Err(ForecastError::Cancelled { step: steps_run });
        }
        if cfg.early_stop_patience_steps.is_some_and(|p| checks_without_gain >= p) {
            stopped_early = true;
            break;
        }
    }
    let training_seconds = train_started.elapsed().as_secs_f64();

    let kept_step = match best {
        Some((_, step, best_params)) => {
            if step != steps_run {
                net.upload(&best_params)?;
            }
            step
        }
        None => steps_run,
    };
    Ok(Fitted {
        net,
        steps_run,
        kept_step,
        stopped_early,
        final_train_loss,
        first_step_seconds,
        training_seconds,
    })
}

/// One optimiser step on one batch; returns the batch's loss (before the update).
fn train_step(
    net: &DeviceNet,
    batch: &HostBatch,
    adam: &mut Adam,
    params: &mut HostParams,
    lr: f64,
    (l, h): (usize, usize),
) -> Result<f32, ForecastError> {
    let dev = &net.device;
    let rows = batch.rows;
    let reversed = Tensor::from_slice(&batch.reversed, (rows, l), dev)?;
    let level = Tensor::from_slice(&batch.level, (rows, 1), dev)?;
    let futr = if batch.futr.is_empty() {
        None
    } else {
        Some(Tensor::from_slice(&batch.futr, (rows, batch.futr.len() / rows), dev)?)
    };
    let target = Tensor::from_slice(&batch.target, (rows, h), dev)?;
    let mask = Tensor::from_slice(&batch.mask, (rows, h), dev)?;

    let mut cache = ForwardCache::default();
    let forecast = net.forward(&reversed, &level, futr.as_ref(), Some(&mut cache))?;
    let (loss, grad) = masked_mae(&forecast, &target, &mask)?;
    let grads = backward(net, &cache, &grad)?;
    drop(cache);
    let grads = grads
        .iter()
        .map(|g| g.flatten_all()?.to_vec1::<f32>())
        .collect::<candle_core::Result<Vec<_>>>()?;
    adam.step(params, &grads, lr);
    Ok(loss)
}
