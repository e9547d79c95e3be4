//! What a training request will cost, from its settings alone, so that the API can refuse one
//! over the compute budget before it is queued (a worker re-checks stored jobs).
//!
//! The network's shape follows the forecast crate's N-HiTS exactly (three stacks, pooling
//! kernels 2/2/1, knot divisors 4/2/1, an MLP of `mlp_width`); the worker's tests check that
//! the parameter count here equals the model's own.

use super::TrainingInput;

/// The forecast crate's defaults for what a request may leave out.
pub const DEFAULT_MAX_STEPS: u64 = 1000;
pub const DEFAULT_WINDOWS_BATCH_SIZE: u64 = 1024;
pub const DEFAULT_MLP_WIDTH: u64 = 512;
/// Hidden layers per block, kernels and knot divisors per stack.
const MLP_LAYERS: usize = 3;
const POOL_KERNELS: [u64; 3] = [2, 2, 1];
const FREQ_DOWNSAMPLE: [u64; 3] = [4, 2, 1];

/// Forward and backward pass of a dense layer: about 6 FLOPs per weight per window.
const FLOPS_PER_PARAMETER_AND_WINDOW: f64 = 6.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingCost {
    pub parameters: u64,
    pub windows_batch_size: u64,
    pub max_steps: u64,
    /// Steps counted: `max_steps`, twice when the honest recipe refits.
    pub steps: u64,
    /// `6 × parameters × windows_batch_size × steps`.
    pub flops: f64,
}

/// Calendar inputs per forecast bar, as the forecast crate's `calendar::FEATURES`.
const CALENDAR_FEATURES: u64 = 4;

impl TrainingInput {
    /// The cost with the input window known at submission.
    pub fn cost(&self) -> TrainingCost {
        self.cost_for(self.effective_input_size())
    }

    /// The cost with an input window of `input_size` bars: calendar inputs counted unless
    /// turned off, and the refit's steps (at most `max_steps` more) unless turned off.
    pub fn cost_for(&self, input_size: u32) -> TrainingCost {
        let (l, h) = (input_size as u64, self.horizon as u64);
        let futr = if self.exog == Some(false) { 0 } else { CALENDAR_FEATURES };
        let width = self.mlp_width.map_or(DEFAULT_MLP_WIDTH, u64::from);
        let linear = |fan_in: u64, fan_out: u64| fan_in * fan_out + fan_out;
        let parameters = POOL_KERNELS
            .iter()
            .zip(FREQ_DOWNSAMPLE)
            .map(|(&k, f)| {
                let knots = (h / f).max(1);
                linear(l.div_ceil(k) + futr * h.div_ceil(k), width)
                    + MLP_LAYERS as u64 * linear(width, width)
                    + linear(width, l + knots)
            })
            .sum();
        let windows_batch_size =
            self.windows_batch_size.map_or(DEFAULT_WINDOWS_BATCH_SIZE, u64::from);
        let max_steps = self.max_steps.map_or(DEFAULT_MAX_STEPS, u64::from);
        let steps = max_steps * if self.refits() { 2 } else { 1 };
        let flops = FLOPS_PER_PARAMETER_AND_WINDOW
            * parameters as f64
            * windows_batch_size as f64
            * steps as f64;
        TrainingCost { parameters, windows_batch_size, max_steps, steps, flops }
    }

    /// The widest input window (from the submission's own, up to `MAX_INPUT_SIZE`) whose
    /// cost stays within `max_flops`: the worker's room to fit the data's longest season.
    pub fn affordable_input_size(&self, max_flops: f64) -> u32 {
        let (mut lo, mut hi) =
            (self.effective_input_size(), super::training::MAX_INPUT_SIZE as u32);
        if self.cost_for(lo).flops > max_flops {
            return lo;
        }
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.cost_for(mid).flops <= max_flops { lo = mid } else { hi = mid - 1 }
        }
        lo
    }

    /// Refuses a request whose estimated compute exceeds `max_flops`, saying what to lower.
    pub fn check_budget(&self, max_flops: f64) -> Result<TrainingCost, String> {
        self.check_budget_for(self.effective_input_size(), max_flops)
    }

    /// As [`Self::check_budget`], with an input window of `input_size` bars.
    pub fn check_budget_for(
        &self,
        input_size: u32,
        max_flops: f64,
    ) -> Result<TrainingCost, String> {
        let cost = self.cost_for(input_size);
        if cost.flops <= max_flops {
            return Ok(cost);
        }
        let per_step = cost.flops / cost.steps as f64;
        let steps_allowed = (max_flops / per_step).floor() as u64 / (cost.steps / cost.max_steps);
        let lower_steps = if steps_allowed >= 1 {
            format!("max_steps to at most {steps_allowed}, or ")
        } else {
            String::new()
        };
        Err(format!(
            "this training needs about {:.2e} FLOPs ({:.1} M parameters x {} windows per step x {} \
             steps, refit included, x 6), over the budget of {max_flops:.2e} (MAX_TRAINING_FLOPS): lower \
             {lower_steps}windows_batch_size, input_size or mlp_width",
            cost.flops,
            cost.parameters as f64 / 1e6,
            cost.windows_batch_size,
            cost.steps,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::job::{JobSpec, parse_submission};

    fn training(input: serde_json::Value) -> TrainingInput {
        let body = json!({"kind": "training", "input": input});
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        match parse_submission(&body, now).unwrap() {
            JobSpec::Training(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_model_has_neuralforecasts_parameter_count_and_fits_the_default_budget() {
        let t = training(json!({"symbol": "EURUSD", "model": "nhits", "horizon": 24,
            "input_size": 120, "exog": false, "refit": false}));
        let cost = t.cost();
        assert_eq!(cost.parameters, 2_694_546);
        assert!((cost.flops - 6.0 * 2_694_546.0 * 1024.0 * 1000.0).abs() < 1.0);
        assert!(t.check_budget(2e14).is_ok());
    }

    #[test]
    fn calendar_inputs_and_the_refit_are_counted_unless_turned_off() {
        let t = training(
            json!({"symbol": "EURUSD", "model": "nhits", "horizon": 24, "input_size": 120}),
        );
        let cost = t.cost();
        // 4 features x ceil(24 / k) pooled bars per block (k = 2, 2, 1), into 512 units.
        assert_eq!(cost.parameters, 2_694_546 + 4 * (12 + 12 + 24) * 512);
        assert_eq!((cost.max_steps, cost.steps), (1000, 2000));
        assert!(t.check_budget(2e14).is_ok());
    }

    #[test]
    fn the_affordable_input_window_is_the_widest_within_the_budget() {
        let t = training(json!({"symbol": "EURUSD", "model": "nhits", "horizon": 48}));
        assert_eq!(t.effective_input_size(), 240);
        let budget = t.cost_for(700).flops;
        let l = t.affordable_input_size(budget);
        assert_eq!(l, 700);
        assert_eq!(t.affordable_input_size(t.cost().flops / 2.0), 240, "never below its own");
        let seasons = training(
            json!({"symbol": "EURUSD", "model": "nhits", "horizon": 48, "seasons": [48, 336]}),
        );
        assert_eq!(seasons.effective_input_size(), 672);
    }

    #[test]
    fn a_request_over_the_budget_is_told_what_to_lower() {
        let t = training(json!({"symbol": "EURUSD", "model": "nhits", "horizon": 720,
            "input_size": 5000, "mlp_width": 2048, "windows_batch_size": 4096, "max_steps": 10000}));
        assert_eq!(t.cost().steps, 20_000, "the refit counts");
        let err = t.check_budget(2e14).unwrap_err();
        assert!(err.contains("MAX_TRAINING_FLOPS"), "{err}");
        assert!(err.contains("max_steps to at most"), "{err}");
        let allowed: u64 =
            err.split("at most ").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
        let mut fits = t.clone();
        fits.max_steps = Some(allowed as u32);
        assert!(fits.check_budget(2e14).is_ok(), "the advice is enough");
        fits.max_steps = Some(allowed as u32 + 1);
        assert!(fits.check_budget(2e14).is_err(), "and not more than needed");
    }
}
